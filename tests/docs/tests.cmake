# The API reference: the docs target must build without a single Doxygen
# warning and cover every header under include/. The headers are the same in
# every build flavour, so the sanitizer build leaves it to the normal one.
if(NOT MLOPS_SANITIZE)
  add_test(NAME docs/api_reference
    COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/docs/check_api_reference.sh ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}
            ${CMAKE_COMMAND} "${DOXYGEN_EXECUTABLE}")
  set_tests_properties(docs/api_reference PROPERTIES LABELS docs SKIP_RETURN_CODE 77)
endif()
