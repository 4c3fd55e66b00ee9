# SPDX-License-Identifier: Apache-2.0
# Layer kernels (layers/*.c) against naive references, and semantics a gradient check cannot see; every
# op's gradients, accumulation and backends are tests/test_ops.c's (tests/ops.cmake).
aicon_test_exe(test_layers_ref test_layers_ref.c)
add_test(NAME layers_ref COMMAND test_layers_ref)
set_tests_properties(layers_ref PROPERTIES LABELS unit ENVIRONMENT "${AICON_TEST_ENV}")
