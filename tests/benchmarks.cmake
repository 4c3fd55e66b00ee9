# SPDX-License-Identifier: Apache-2.0
# Benchmarks: a smoke run of the allreduce benchmark at small sizes on 3 ranks (not a power of two),
# which fails on any wrong element; then its JSON must list every CPU algorithm at every size.
if(TARGET bench_allreduce)
  add_test(NAME bench_allreduce_smoke
    COMMAND sh -c "$0 \"$@\" && python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); \
got={(r[\"algo\"],r[\"bytes\"]) for r in d[\"results\"] if r[\"wrong\"]==0 and r[\"time_us\"]>0}; \
want={(a,b) for a in (\"ring\",\"rd\",\"rabenseifner\",\"aicon\",\"mpi\") for b in (4,64,1024,16384,262144)}; \
sys.exit(\"missing or wrong: %s\" % sorted(want-got) if want-got else 0)' bench_allreduce_smoke.json"
      ${AICON_MPIRUN} -np 3 $<TARGET_FILE:bench_allreduce> --min 4 --max 256K --factor 16 --iters 2
      --warmup 1 --algos ring,rd,rabenseifner,aicon,mpi --json bench_allreduce_smoke.json
    WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
  set_tests_properties(bench_allreduce_smoke PROPERTIES LABELS mpi ENVIRONMENT "${AICON_TEST_ENV}"
    TIMEOUT 120)
endif()

# The attention benchmark at a small shape against PyTorch: it runs and prints its table (no timing is
# judged).
if(TARGET bench_attention)
  add_test(NAME bench_attention_smoke
    COMMAND env BATCH=2 SEQ=16 HEADS=2 DIM=8 ITERS=1 REPS=1 ${PROJECT_SOURCE_DIR}/benchmarks/attention.sh
      ${PROJECT_BINARY_DIR})
  set_tests_properties(bench_attention_smoke PROPERTIES ENVIRONMENT "${AICON_TEST_ENV}" TIMEOUT 120
    PASS_REGULAR_EXPRESSION "backward .*\nboth ")
endif()
