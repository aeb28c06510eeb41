# bench_gemm measures against oneDNN (Debian's libdnnl-dev, no pkg-config
# file there) and OpenBLAS, which the library itself already links.
find_library(MLOPS_DNNL_LIBRARY NAMES dnnl REQUIRED)
find_path(MLOPS_DNNL_INCLUDE oneapi/dnnl/dnnl.h REQUIRED)
target_include_directories(bench_gemm PRIVATE ${MLOPS_DNNL_INCLUDE})
target_link_libraries(bench_gemm PRIVATE ${MLOPS_DNNL_LIBRARY})
