# The profile update and sorting loops are the drift hot paths: build them
# with -O3 so the block loops vectorise whatever the build type.
set_source_files_properties(
  ${PROJECT_SOURCE_DIR}/src/drift/profile.c
  ${PROJECT_SOURCE_DIR}/src/drift/sample.c
  PROPERTIES COMPILE_OPTIONS "-O3")
