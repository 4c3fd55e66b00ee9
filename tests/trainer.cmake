# SPDX-License-Identifier: Apache-2.0
# aic_trainer through its public API: callbacks, checkpoints, a stop, an exact resume, errors (2 ranks).
aicon_test_exe(test_trainer test_trainer.c)
add_test(NAME trainer_api COMMAND ${AICON_MPIRUN} -np 2 $<TARGET_FILE:test_trainer> /usr/share/datasets/fashion-mnist)
set_tests_properties(trainer_api PROPERTIES LABELS mpi ENVIRONMENT "${AICON_TEST_ENV}" TIMEOUT 300)
