# Static analysis of src/ with the committed configuration (.clang-tidy,
# tests/analysis/cppcheck-suppressions.txt); skipped when the tool is absent.
# The sources are the same in every build flavour, so the sanitizer build
# leaves the analysis to the normal one.
if(NOT MLOPS_SANITIZE)
  foreach(analyser cppcheck clang-tidy)
    add_test(NAME analysis/${analyser}
      COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/analysis/check_static.sh ${analyser} ${PROJECT_SOURCE_DIR}
              ${PROJECT_BINARY_DIR})
    set_tests_properties(analysis/${analyser} PROPERTIES LABELS analysis SKIP_RETURN_CODE 77)
  endforeach()
endif()
