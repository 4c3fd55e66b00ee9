# SPDX-License-Identifier: Apache-2.0
# Collectives: the allreduces, broadcast, digest checks and agreement, under 1 to 5 ranks.
aicon_test_exe(test_allreduce test_allreduce.c)
foreach(np 1 2 3 4 5)
  add_test(NAME allreduce_np${np} COMMAND ${AICON_MPIRUN} -np ${np} $<TARGET_FILE:test_allreduce>)
  set_tests_properties(allreduce_np${np} PROPERTIES
    LABELS mpi ENVIRONMENT "${AICON_TEST_ENV}" TIMEOUT 120)
endforeach()
# The fallback where the single-copy (CMA) allreduce is off: the choice takes the ring instead.
add_test(NAME allreduce_nocma_np3 COMMAND ${AICON_MPIRUN} -np 3 $<TARGET_FILE:test_allreduce>)
set_tests_properties(allreduce_nocma_np3 PROPERTIES
  LABELS mpi ENVIRONMENT "${AICON_TEST_ENV};AICON_ALLREDUCE_CMA=0" TIMEOUT 120)
