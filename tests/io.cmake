# SPDX-License-Identifier: Apache-2.0
# io/: IDX and HDF5 data set readers, the directory loader, gather and the distributed sampler.
aicon_test_exe(test_io test_io.c)
target_link_libraries(test_io PRIVATE ZLIB::ZLIB)
add_test(NAME io COMMAND test_io)
set_tests_properties(io PROPERTIES LABELS unit ENVIRONMENT "${AICON_TEST_ENV}")
# Token data sets: llm.c shards and HDF5 tokens files, their windows, and damaged files.
aicon_test_exe(test_io_tokens io/test_tokens.c)
add_test(NAME io_tokens COMMAND test_io_tokens)
set_tests_properties(io_tokens PROPERTIES LABELS unit ENVIRONMENT "${AICON_TEST_ENV}")
