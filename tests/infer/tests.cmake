# The GEMM suite once more per forced kernel (MLOPS_ISA), so the public,
# default-kernel paths run on every ISA; a kernel this CPU lacks is skipped
# inside the test with its reason. The sanitizer build drops the largest shapes.
foreach(isa ref avx2 avx512vnni amx)
  add_test(NAME infer/test_gemm_${isa} COMMAND test_gemm)
  set_tests_properties(infer/test_gemm_${isa} PROPERTIES LABELS infer ENVIRONMENT "MLOPS_ISA=${isa}")
  if(MLOPS_SANITIZE)
    set_tests_properties(infer/test_gemm_${isa} PROPERTIES ENVIRONMENT "MLOPS_ISA=${isa};MLOPS_TEST_QUICK=1")
  endif()
endforeach()
if(MLOPS_SANITIZE)
  set_tests_properties(infer/test_gemm PROPERTIES ENVIRONMENT "MLOPS_TEST_QUICK=1")
endif()

# ---- ONNX conformance and sessions, once more per forced kernel ---------------
# Their int8 layers then run on each ISA in turn; a kernel this CPU lacks is
# skipped inside the test with its reason.
foreach(isa ref avx2 avx512vnni amx)
  foreach(unit test_onnx_conformance test_session)
    add_test(NAME infer/${unit}_${isa} COMMAND ${unit})
    set_tests_properties(infer/${unit}_${isa} PROPERTIES LABELS infer ENVIRONMENT "MLOPS_ISA=${isa}")
  endforeach()
endforeach()
