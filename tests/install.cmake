# SPDX-License-Identifier: Apache-2.0
# aicon as a library (docs/library.md): the build tree installed into a temporary prefix,
# examples/train_classifier.c built against it out of tree (find_package and pkg-config) and trained
# on 2 ranks, and libaicon.so.0 exporting the AIC_API calls and nothing else.
add_test(NAME install_library
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/install/install.sh ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR}
          ${CMAKE_INSTALL_LIBDIR} ${CMAKE_CURRENT_BINARY_DIR}/install-test /usr/share/datasets/fashion-mnist
          ${AICON_MPIRUN})
set_tests_properties(install_library PROPERTIES
  LABELS "install;mpi" ENVIRONMENT "${AICON_TEST_ENV};CC=${CMAKE_C_COMPILER}" TIMEOUT 600
  RESOURCE_LOCK install-test)
