# SPDX-License-Identifier: Apache-2.0
# The layers (docs/library.md): core/ and layers/ include nothing above them, and a program linked
# with aicon_core alone runs and needs no MPI, HDF5, libcurl, secp256k1 or json-c.
add_executable(test_core_only test_core_only.c)
target_include_directories(test_core_only PRIVATE ${PROJECT_SOURCE_DIR})
target_link_libraries(test_core_only PRIVATE aicon_core)
add_test(NAME core_only COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/layering/core_only.sh $<TARGET_FILE:test_core_only>)
add_test(NAME core_includes COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/layering/core_includes.sh ${PROJECT_SOURCE_DIR})
set_tests_properties(core_only core_includes PROPERTIES LABELS unit TIMEOUT 60 ENVIRONMENT "${AICON_TEST_ENV}")
