# Parameters are bit-identical across OpenBLAS thread counts, checked across
# two processes since OpenBLAS reads its thread count at start-up.
add_test(NAME train/openblas_threads_bit_identical
  COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/train/check_openblas_threads.sh $<TARGET_FILE:test_trainer>)
set_tests_properties(train/openblas_threads_bit_identical PROPERTIES LABELS train)
