# Fuzz targets: every tests/fuzz/fuzz_<name>.c defines LLVMFuzzerTestOneInput.
# Each is always built as a replay program (replay_main.c runs every file of
# tests/fuzz/corpus/<name>/ through it) and registered with ctest, so a fixed
# crash stays fixed in the normal and the sanitizer builds. With MLOPS_FUZZ
# (clang) each is also linked with libFuzzer as fuzz_<name>; scripts/fuzz.sh
# runs those. A new target is one fuzz_<name>.c plus a seed corpus directory
# (and optionally dict/<name>.dict): nothing to add here.
set(MLOPS_FUZZ_DIR ${CMAKE_CURRENT_SOURCE_DIR}/fuzz)
file(GLOB MLOPS_FUZZ_TARGETS CONFIGURE_DEPENDS ${MLOPS_FUZZ_DIR}/fuzz_*.c)
foreach(fuzz_source ${MLOPS_FUZZ_TARGETS})
  get_filename_component(fuzz_name ${fuzz_source} NAME_WE)
  string(REGEX REPLACE "^fuzz_" "" corpus_name ${fuzz_name})
  add_executable(${fuzz_name}_replay ${fuzz_source} ${MLOPS_FUZZ_DIR}/replay_main.c)
  target_link_libraries(${fuzz_name}_replay PRIVATE mlops_static)
  target_include_directories(${fuzz_name}_replay PRIVATE ${MLOPS_FUZZ_DIR} ${PROJECT_SOURCE_DIR}/src)
  add_test(NAME fuzz/${corpus_name}_corpus
           COMMAND ${fuzz_name}_replay ${MLOPS_FUZZ_DIR}/corpus/${corpus_name})
  set_tests_properties(fuzz/${corpus_name}_corpus PROPERTIES LABELS fuzz)
  if(MLOPS_FUZZ)
    add_executable(${fuzz_name} ${fuzz_source})
    target_link_libraries(${fuzz_name} PRIVATE mlops_static)
    target_include_directories(${fuzz_name} PRIVATE ${MLOPS_FUZZ_DIR} ${PROJECT_SOURCE_DIR}/src)
    target_link_options(${fuzz_name} PRIVATE -fsanitize=fuzzer)
  endif()
endforeach()
