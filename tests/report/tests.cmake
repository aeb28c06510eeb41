# The report page rendered by headless Chromium (a few seconds), in the
# normal build only; skipped when chromium is not installed.
if(NOT MLOPS_SANITIZE)
  add_test(NAME report/render_png
    COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/report/render_smoke.sh $<TARGET_FILE:mlops_cli> ${PROJECT_SOURCE_DIR})
  set_tests_properties(report/render_png PROPERTIES LABELS report SKIP_RETURN_CODE 77 TIMEOUT 60)
endif()
