# SPDX-License-Identifier: Apache-2.0
# The example program must keep building and training: 2 ranks, a few steps on Fashion-MNIST.
add_test(NAME example_train_classifier
  COMMAND ${AICON_MPIRUN} -np 2 $<TARGET_FILE:train_classifier> /usr/share/datasets/fashion-mnist 60)
set_tests_properties(example_train_classifier PROPERTIES
  LABELS mpi ENVIRONMENT "${AICON_TEST_ENV}" TIMEOUT 300
  PASS_REGULAR_EXPRESSION "test accuracy 0\\.[3-9]")
