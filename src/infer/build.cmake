# Per-file instruction-set flags of the GEMM kernels: each kernel file is
# compiled for its ISA and only called after CPUID (and, for AMX, the
# kernel's tile-data permission) says it can run. Float contraction stays
# off so every epilogue rounds exactly as the portable reference does.
set(MLOPS_INFER_DIR ${CMAKE_CURRENT_LIST_DIR})
set(MLOPS_AVX512_FLAGS -mavx2 -mfma -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni)
set_source_files_properties(${MLOPS_INFER_DIR}/gemm_avx2.c PROPERTIES
  COMPILE_OPTIONS "-mavx2;-mfma;-ffp-contract=off;-O3")
set_source_files_properties(${MLOPS_INFER_DIR}/gemm_avx512.c PROPERTIES
  COMPILE_OPTIONS "${MLOPS_AVX512_FLAGS};-ffp-contract=off;-O3")
set_source_files_properties(${MLOPS_INFER_DIR}/gemm_amx.c PROPERTIES
  COMPILE_OPTIONS "${MLOPS_AVX512_FLAGS};-mamx-tile;-mamx-int8;-ffp-contract=off;-O3")
set_source_files_properties(${MLOPS_INFER_DIR}/gemm_ref.c ${MLOPS_INFER_DIR}/qlinear.c PROPERTIES
  COMPILE_OPTIONS "-ffp-contract=off")
