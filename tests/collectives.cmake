# Collectives: the ring allreduce, broadcast, digest checks and agreement, under 1 to 5 ranks.
aicon_test_exe(test_allreduce test_allreduce.c)
foreach(np 1 2 3 4 5)
  add_test(NAME allreduce_np${np} COMMAND ${AICON_MPIRUN} -np ${np} $<TARGET_FILE:test_allreduce>)
  set_tests_properties(allreduce_np${np} PROPERTIES
    LABELS mpi ENVIRONMENT "${AICON_TEST_ENV}" TIMEOUT 120)
endforeach()
