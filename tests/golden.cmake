# SPDX-License-Identifier: Apache-2.0
# Golden test against PyTorch: golden_make writes golden.h5 with Debian's PyTorch (not a pyenv or
# virtualenv python, which lacks torch), golden_pytorch trains the same models in aicon and compares.
set(AICON_PYTHON /usr/bin/python3 CACHE FILEPATH "Python with torch, h5py and numpy, for the golden tests")

aicon_test_exe(test_golden ${CMAKE_CURRENT_SOURCE_DIR}/test_golden.c)

add_test(NAME golden_make
  COMMAND ${AICON_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/golden/make_golden.py ${CMAKE_CURRENT_BINARY_DIR}/golden.h5
  WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties(golden_make PROPERTIES
  FIXTURES_SETUP golden_h5
  LABELS unit
  ENVIRONMENT "OMP_NUM_THREADS=1")

add_test(NAME golden_pytorch
  COMMAND ${AICON_MPIRUN} -np 1 $<TARGET_FILE:test_golden> ${CMAKE_CURRENT_BINARY_DIR}/golden.h5)
set_tests_properties(golden_pytorch PROPERTIES
  FIXTURES_REQUIRED golden_h5
  LABELS unit
  ENVIRONMENT "${AICON_TEST_ENV}")
