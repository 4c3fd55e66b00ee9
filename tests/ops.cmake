# SPDX-License-Identifier: Apache-2.0
# One harness for every op (tests/test_ops.c): finite differences, oneDNN against the reference, CUDA
# against the CPU (skipped, saying why, without a GPU), ONNX export and re-import of each op alone.
# ops_onnxruntime runs the one-op models `ops` writes through onnxruntime-node (npm, cached under the
# build tree as the cli_onnx_* tests do); without onnxruntime it fails.
# One OpenMP thread: on a loaded machine oneDNN's threads wait on each other for most of the run
# (50 s instead of 3 s on two busy cores).
aicon_test_exe(test_ops test_ops.c)
add_test(NAME ops COMMAND test_ops ${CMAKE_CURRENT_BINARY_DIR}/ops)
set_tests_properties(ops PROPERTIES
  LABELS unit TIMEOUT 120 FIXTURES_SETUP ops_models ENVIRONMENT "${AICON_TEST_ENV};OMP_NUM_THREADS=1")
add_test(NAME ops_onnxruntime
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/ops/onnxruntime.sh ${CMAKE_CURRENT_BINARY_DIR}/ops
          ${CMAKE_CURRENT_BINARY_DIR}/onnxruntime-node)
set_tests_properties(ops_onnxruntime PROPERTIES LABELS unit TIMEOUT 300 FIXTURES_REQUIRED ops_models)
