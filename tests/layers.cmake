# SPDX-License-Identifier: Apache-2.0
# Layer kernels (layers/*.c): finite-difference gradients of every op, and references, accumulation
# and determinism checks.
aicon_test_exe(test_gradcheck test_gradcheck.c)
add_test(NAME layers_gradcheck COMMAND test_gradcheck)
aicon_test_exe(test_layers_ref test_layers_ref.c)
add_test(NAME layers_ref COMMAND test_layers_ref)
set_tests_properties(layers_gradcheck layers_ref PROPERTIES LABELS unit ENVIRONMENT "${AICON_TEST_ENV}")
