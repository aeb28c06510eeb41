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

# ---- ONNX import: protobuf-c code generated from Debian's onnx.proto ----------
# The C decoder for ONNX models is produced at build time by protoc-c from the
# onnx.proto that libonnx-dev installs; nothing of it is committed.
find_program(MLOPS_PROTOC_C protoc-c REQUIRED)
find_file(MLOPS_ONNX_PROTO onnx.proto PATHS /usr/include/onnx NO_DEFAULT_PATH REQUIRED)
set(MLOPS_ONNX_GENERATED_DIR ${PROJECT_BINARY_DIR}/generated)
file(MAKE_DIRECTORY ${MLOPS_ONNX_GENERATED_DIR})
get_filename_component(MLOPS_ONNX_PROTO_DIR ${MLOPS_ONNX_PROTO} DIRECTORY)
add_custom_command(
  OUTPUT ${MLOPS_ONNX_GENERATED_DIR}/onnx.pb-c.c ${MLOPS_ONNX_GENERATED_DIR}/onnx.pb-c.h
  COMMAND ${MLOPS_PROTOC_C} --proto_path=${MLOPS_ONNX_PROTO_DIR} --c_out=${MLOPS_ONNX_GENERATED_DIR}
          ${MLOPS_ONNX_PROTO}
  DEPENDS ${MLOPS_ONNX_PROTO}
  COMMENT "Generating the ONNX protobuf-c decoder from ${MLOPS_ONNX_PROTO}"
  VERBATIM)
# Generated code is not ours to fix: silence its warnings (and -Werror) there only.
set_source_files_properties(${MLOPS_ONNX_GENERATED_DIR}/onnx.pb-c.c PROPERTIES
  GENERATED TRUE COMPILE_OPTIONS "-w;-Wno-error")
list(APPEND MLOPS_SOURCES ${MLOPS_ONNX_GENERATED_DIR}/onnx.pb-c.c)
list(APPEND MLOPS_PKG_DEPS libprotobuf-c)
