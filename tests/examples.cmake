# SPDX-License-Identifier: Apache-2.0
# The example program must keep building and training: 2 ranks, a few steps on Fashion-MNIST.
add_test(NAME example_train_classifier
  COMMAND ${AICON_MPIRUN} -np 2 $<TARGET_FILE:train_classifier> /usr/share/datasets/fashion-mnist 60)
set_tests_properties(example_train_classifier PROPERTIES
  LABELS mpi ENVIRONMENT "${AICON_TEST_ENV}" TIMEOUT 300
  PASS_REGULAR_EXPRESSION "test accuracy 0\\.[3-9]")
# The GPT of examples/gpt.c against PyTorch: 5 AdamW steps with clipping and decay on matrices only,
# losses within 1e-4, first gradients (the tied table's summed from both ops) and final parameters
# within float rounding (tests/gpt/gpt_parity.py runs test_gpt, then the same steps in torch).
aicon_test_exe(test_gpt test_gpt.c ${PROJECT_SOURCE_DIR}/examples/gpt.c)
add_test(NAME gpt_parity COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/gpt/gpt_parity.py
  $<TARGET_FILE:test_gpt>)
set_tests_properties(gpt_parity PROPERTIES LABELS unit ENVIRONMENT "${AICON_TEST_ENV}" TIMEOUT 120)
add_test(NAME example_train_gpt
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/gpt/train_gpt.sh $<TARGET_FILE:train_gpt> ${AICON_MPIRUN})
set_tests_properties(example_train_gpt PROPERTIES
  LABELS mpi ENVIRONMENT "${AICON_TEST_ENV}" TIMEOUT 300
  PASS_REGULAR_EXPRESSION "validation loss [01]\\.")
