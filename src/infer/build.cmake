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
