# SPDX-License-Identifier: Apache-2.0
# libFuzzer targets over every reader (AICON_FUZZ=ON, clang only), included from the top directory
# (the generated protobuf source is visible only there): the ONNX loader and importer, checkpoints,
# IDX and HDF5 data sets, and with AICON_USAGE the usage ledger and records. tests/fuzzing.cmake
# runs each over its corpus (tests/fuzz/corpus/<name>) as a ctest; scripts/fuzz.sh runs them longer.
set(AICON_FUZZ_FLAGS -g -O1 -fno-sanitize-recover=undefined -fno-omit-frame-pointer)

# The loader alone: the loader, the generated protobuf reader and the error helpers, compiled into
# the target itself with the fuzzer's coverage and ASan+UBSan; the system libprotobuf-c is not
# instrumented.
add_executable(onnx_load_fuzz
  ${PROJECT_SOURCE_DIR}/tests/fuzz/onnx_load_fuzz.c
  ${PROJECT_SOURCE_DIR}/onnx/onnx_load.c
  ${PROJECT_SOURCE_DIR}/core/error.c
  ${AICON_ONNX_GEN_DIR}/onnx/onnx.pb-c.c)
target_include_directories(onnx_load_fuzz PRIVATE ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}
  ${AICON_ONNX_GEN_DIR})
target_compile_options(onnx_load_fuzz PRIVATE ${AICON_FUZZ_FLAGS} -fsanitize=fuzzer,address,undefined)
target_link_options(onnx_load_fuzz PRIVATE -fsanitize=fuzzer,address,undefined)
target_link_libraries(onnx_load_fuzz PRIVATE PkgConfig::PROTOBUFC)

# Every library source (AICON_SOURCES, the same list as the aicon library) and the generated protobuf
# reader, compiled once with coverage and ASan+UBSan for the targets below, which link what the
# library links. Not the aicon library itself: that one stays uninstrumented. libhdf5, zlib and
# json-c are the system's, not instrumented.
add_library(aicon_fuzz_obj OBJECT ${AICON_SOURCES} ${AICON_ONNX_GEN_DIR}/onnx/onnx.pb-c.c)
target_include_directories(aicon_fuzz_obj PRIVATE ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}
  ${HDF5_C_INCLUDE_DIRS} ${AICON_ONNX_GEN_DIR})
target_compile_definitions(aicon_fuzz_obj PRIVATE ${HDF5_C_DEFINITIONS})
target_compile_options(aicon_fuzz_obj PRIVATE ${AICON_FUZZ_FLAGS} -fsanitize=fuzzer-no-link,address,undefined)
target_link_libraries(aicon_fuzz_obj PRIVATE MPI::MPI_C Threads::Threads ${AICON_PRIVATE_LIBS})

set(AICON_FUZZ_TARGETS onnx_load_fuzz)
function(aicon_fuzz_target name)
  add_executable(${name} ${PROJECT_SOURCE_DIR}/tests/fuzz/${name}.c $<TARGET_OBJECTS:aicon_fuzz_obj> ${ARGN})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}
    ${HDF5_C_INCLUDE_DIRS} ${AICON_ONNX_GEN_DIR})
  target_compile_options(${name} PRIVATE ${AICON_FUZZ_FLAGS} -fsanitize=fuzzer,address,undefined)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(${name} PRIVATE MPI::MPI_C Threads::Threads ${AICON_PRIVATE_LIBS})
  set(AICON_FUZZ_TARGETS ${AICON_FUZZ_TARGETS} ${name} PARENT_SCOPE)
endfunction()

# The importer end to end, checkpoints into a fixed model, IDX and HDF5 data sets.
aicon_fuzz_target(onnx_import_fuzz)
aicon_fuzz_target(checkpoint_fuzz)
aicon_fuzz_target(idx_fuzz)
aicon_fuzz_target(h5data_fuzz)

# The usage ledger and records: chain/ instrumented the same way.
if(AICON_USAGE)
  add_library(aicon_fuzz_usage_obj OBJECT ${AICON_USAGE_SOURCES})
  target_include_directories(aicon_fuzz_usage_obj PRIVATE ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR})
  target_compile_options(aicon_fuzz_usage_obj PRIVATE ${AICON_FUZZ_FLAGS}
    -fsanitize=fuzzer-no-link,address,undefined)
  target_link_libraries(aicon_fuzz_usage_obj PRIVATE MPI::MPI_C OpenSSL::Crypto PkgConfig::SECP256K1 PkgConfig::NETTLE
    PkgConfig::JSONC PkgConfig::CURL)
  foreach(name ledger_fuzz record_fuzz)
    aicon_fuzz_target(${name} $<TARGET_OBJECTS:aicon_fuzz_usage_obj>)
    target_link_libraries(${name} PRIVATE OpenSSL::Crypto PkgConfig::SECP256K1 PkgConfig::NETTLE PkgConfig::JSONC
      PkgConfig::CURL)
  endforeach()
endif()

# `cmake --build B --target fuzz_targets` builds the targets alone (scripts/fuzz.sh).
add_custom_target(fuzz_targets DEPENDS ${AICON_FUZZ_TARGETS})
