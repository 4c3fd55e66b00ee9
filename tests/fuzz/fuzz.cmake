# SPDX-License-Identifier: Apache-2.0
# libFuzzer targets for the ONNX loader and importer (AICON_FUZZ=ON, clang only), included from the top directory
# (the generated protobuf source is visible only there). The loader, the generated protobuf
# reader and the error helpers are compiled into the target itself, with the fuzzer's coverage and
# ASan+UBSan; the system libprotobuf-c is not instrumented.
add_executable(onnx_load_fuzz
  ${PROJECT_SOURCE_DIR}/tests/fuzz/onnx_load_fuzz.c
  ${PROJECT_SOURCE_DIR}/onnx/onnx_load.c
  ${PROJECT_SOURCE_DIR}/core/error.c
  ${AICON_ONNX_GEN_DIR}/onnx/onnx.pb-c.c)
target_include_directories(onnx_load_fuzz PRIVATE ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}
  ${AICON_ONNX_GEN_DIR})
target_compile_options(onnx_load_fuzz PRIVATE -g -O1 -fsanitize=fuzzer,address,undefined
  -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
target_link_options(onnx_load_fuzz PRIVATE -fsanitize=fuzzer,address,undefined)
target_link_libraries(onnx_load_fuzz PRIVATE PkgConfig::PROTOBUFC)

# The importer, end to end: every library source (AICON_SOURCES, the same list as the aicon library)
# and the generated protobuf reader, compiled into the target with coverage and ASan+UBSan, linked
# against the libraries aicon links. Not the aicon library itself: that one stays uninstrumented.
add_executable(onnx_import_fuzz
  ${PROJECT_SOURCE_DIR}/tests/fuzz/onnx_import_fuzz.c
  ${AICON_SOURCES}
  ${AICON_ONNX_GEN_DIR}/onnx/onnx.pb-c.c)
target_include_directories(onnx_import_fuzz PRIVATE ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}
  ${HDF5_C_INCLUDE_DIRS} ${AICON_ONNX_GEN_DIR})
target_compile_definitions(onnx_import_fuzz PRIVATE ${HDF5_C_DEFINITIONS})
target_compile_options(onnx_import_fuzz PRIVATE -g -O1 -fsanitize=fuzzer,address,undefined
  -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
target_link_options(onnx_import_fuzz PRIVATE -fsanitize=fuzzer,address,undefined)
target_link_libraries(onnx_import_fuzz PRIVATE MPI::MPI_C Threads::Threads ${AICON_PRIVATE_LIBS})
