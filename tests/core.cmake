# SPDX-License-Identifier: Apache-2.0
# core/ helpers: the atomic file writer every checkpoint, export, spool file and summary goes through.
aicon_test_exe(test_atomic_file test_atomic_file.c)
add_test(NAME atomic_file COMMAND test_atomic_file)
set_tests_properties(atomic_file PROPERTIES LABELS unit TIMEOUT 30)
