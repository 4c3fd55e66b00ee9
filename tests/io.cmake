# SPDX-License-Identifier: Apache-2.0
# io/: IDX and HDF5 data set readers, the directory loader, gather and the distributed sampler.
aicon_test_exe(test_io test_io.c)
target_link_libraries(test_io PRIVATE ZLIB::ZLIB)
add_test(NAME io COMMAND test_io)
set_tests_properties(io PROPERTIES LABELS unit ENVIRONMENT "${AICON_TEST_ENV}")
