# SPDX-License-Identifier: Apache-2.0
# onnx/: reading and validating ONNX models. onnx_models writes a valid model and one broken copy per
# rule with Debian's python3-onnx (AICON_PYTHON, see golden.cmake); onnx_load reads them all, and every
# operator test model of libonnx-testdata.
if(NOT DEFINED AICON_PYTHON)
  set(AICON_PYTHON /usr/bin/python3 CACHE FILEPATH "Python with torch, h5py, numpy and onnx, for the tests")
endif()

aicon_test_exe(test_onnx_load ${CMAKE_CURRENT_SOURCE_DIR}/test_onnx_load.c)

add_test(NAME onnx_models
  COMMAND ${AICON_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/onnx/make_bad_models.py ${CMAKE_CURRENT_BINARY_DIR}/onnx_models)
set_tests_properties(onnx_models PROPERTIES FIXTURES_SETUP onnx_models LABELS unit)

add_test(NAME onnx_load COMMAND test_onnx_load ${CMAKE_CURRENT_BINARY_DIR}/onnx_models)
set_tests_properties(onnx_load PROPERTIES FIXTURES_REQUIRED onnx_models LABELS unit)

# aic_onnx_import: onnx_import_models writes small models with their inputs and numpy's outputs;
# onnx_import runs them and checks that unsupported nodes are all named.
aicon_test_exe(test_onnx_import ${CMAKE_CURRENT_SOURCE_DIR}/test_onnx_import.c)

add_test(NAME onnx_import_models
  COMMAND ${AICON_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/onnx/make_import_models.py
          ${CMAKE_CURRENT_BINARY_DIR}/onnx_import_models)
set_tests_properties(onnx_import_models PROPERTIES FIXTURES_SETUP onnx_import_models LABELS unit)

add_test(NAME onnx_import COMMAND test_onnx_import ${CMAKE_CURRENT_BINARY_DIR}/onnx_import_models
  ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/repro)
set_tests_properties(onnx_import PROPERTIES FIXTURES_REQUIRED onnx_import_models LABELS unit)

# onnx_conformance: every backend test case of libonnx-testdata (node, pytorch-converted,
# pytorch-operator, simple) through `aicon onnx-test`, which imports each model, runs the forward pass
# and compares with the expected outputs (rtol 1e-3, atol 1e-7). Cases the importer cannot run
# (operators it lacks, non-float tensors) are skipped with the reason; any failure fails the test, and
# so does a case of tests/onnx/conformance_pass.txt (every case aicon runs today) that does not pass.
set(AICON_ONNX_TESTDATA /usr/share/libonnx-testdata/data CACHE PATH "libonnx-testdata's data directory")
add_test(NAME onnx_conformance
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/onnx/conformance.sh $<TARGET_FILE:aicon_cli> ${AICON_ONNX_TESTDATA}
          ${CMAKE_CURRENT_SOURCE_DIR}/onnx/conformance_pass.txt)
set_tests_properties(onnx_conformance PROPERTIES LABELS unit TIMEOUT 600 ENVIRONMENT "${AICON_TEST_ENV}")

# onnx_test_cli: onnx-test's usage errors (a directory that is no test case, a missing path) and a
# FAIL line for a case whose expected output was altered.
add_test(NAME onnx_test_cli
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/onnx/onnx_test_cli.sh $<TARGET_FILE:aicon_cli> ${AICON_PYTHON}
          ${AICON_ONNX_TESTDATA})
set_tests_properties(onnx_test_cli PROPERTIES LABELS unit TIMEOUT 120 ENVIRONMENT "${AICON_TEST_ENV}")

# onnx_model_families: the model families of tests/onnx/model_families.py (a 1-D conv net, a
# transformer encoder, MobileNetV3, a U-Net, a ViT, an LSTM, a bidirectional GRU and a 3-D conv net;
# opsets 13 and 17; a LeNet exported with a fixed batch of 1 run at batch 3) exported by PyTorch, their outputs PyTorch's, must each pass aicon onnx-test (1e-4 relative): the wrapper fails on any skip too.
add_test(NAME onnx_model_families
  COMMAND bash -c "rm -rf families && ${AICON_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/onnx/model_families.py families && $<TARGET_FILE:aicon_cli> onnx-test families | tee families.log && grep -qx '17 passed, 0 failed, 0 skipped' families.log")
set_tests_properties(onnx_model_families PROPERTIES LABELS unit TIMEOUT 300 ENVIRONMENT "${AICON_TEST_ENV};OMP_NUM_THREADS=1")

# aic_onnx_export: test_onnx_export compares an exported model, imported back, with the built-in
# model loaded from the same run's checkpoint; tests/cli/onnx_export.sh (cli_onnx_export) drives it.
aicon_test_exe(test_onnx_export ${CMAKE_CURRENT_SOURCE_DIR}/test_onnx_export.c
               ${PROJECT_SOURCE_DIR}/tools/builtin_models.c ${PROJECT_SOURCE_DIR}/examples/gpt.c)

# Training parity with PyTorch through ONNX: onnx_parity_models exports nineteen models (Debian's
# python3-torch and python3-torchvision): an MLP, a LeNet, ResNet-18, MobileNetV2, LayerNorm MLPs, a
# transformer encoder layer, a GPT block and the model families of onnx_model_families (a 1-D conv
# net, a ViT, MobileNetV3 small, a U-Net with per-pixel labels, an LSTM, a bidirectional GRU; the
# transformer layer, the ViT, MobileNetV3 and the RNNs at opsets 13 and 17) in training mode and
# records twenty SGD-with-momentum losses of each; onnx_parity imports the files, repeats the twenty
# steps in aicon (1e-4 relative at every step; ResNet-18 and MobileNetV2 within PyTorch's own float32
# noise) and checks that every nn.Parameter is trained. Under a minute together on one thread.
aicon_test_exe(test_onnx_parity ${CMAKE_CURRENT_SOURCE_DIR}/test_onnx_parity.c)

add_test(NAME onnx_parity_models
  COMMAND ${AICON_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/onnx/make_parity.py ${CMAKE_CURRENT_BINARY_DIR}/onnx_parity)
set_tests_properties(onnx_parity_models PROPERTIES
  FIXTURES_SETUP onnx_parity LABELS unit TIMEOUT 300 ENVIRONMENT "OMP_NUM_THREADS=1")

add_test(NAME onnx_parity
  COMMAND ${AICON_MPIRUN} -np 1 $<TARGET_FILE:test_onnx_parity> ${CMAKE_CURRENT_BINARY_DIR}/onnx_parity)
set_tests_properties(onnx_parity PROPERTIES
  FIXTURES_REQUIRED onnx_parity LABELS unit TIMEOUT 300 ENVIRONMENT "${AICON_TEST_ENV}")
