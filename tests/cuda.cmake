# SPDX-License-Identifier: Apache-2.0
# The CUDA backend against the CPU path (every op forward and backward, the optimizers) and the GPU
# allreduces. Without CUDA or without a GPU the programs exit 77 and say why: ctest shows Skipped,
# which scripts/test.sh accepts for the label gpu alone, and only where no GPU is visible.
aicon_test_exe(test_cuda_ops test_cuda_ops.c)
add_test(NAME cuda_ops COMMAND test_cuda_ops)
aicon_test_exe(test_cuda_allreduce test_cuda_allreduce.c)
add_test(NAME cuda_allreduce_np1 COMMAND ${AICON_MPIRUN} -np 1 $<TARGET_FILE:test_cuda_allreduce>)
add_test(NAME cuda_allreduce_np2 COMMAND ${AICON_MPIRUN} -np 2 $<TARGET_FILE:test_cuda_allreduce>)
set_tests_properties(cuda_ops cuda_allreduce_np1 cuda_allreduce_np2 PROPERTIES
  LABELS "unit;gpu" ENVIRONMENT "${AICON_TEST_ENV}" SKIP_RETURN_CODE 77 TIMEOUT 300)
# ResNet-50-shaped training throughput (scripts/gpu-check.sh prints it beside PyTorch's); as a test it
# checks that the loss falls.
aicon_test_exe(test_cuda_resnet50 test_cuda_resnet50.c)
add_test(NAME cuda_resnet50 COMMAND test_cuda_resnet50)
set_tests_properties(cuda_resnet50 PROPERTIES
  LABELS "slow;gpu" ENVIRONMENT "${AICON_TEST_ENV}" SKIP_RETURN_CODE 77 TIMEOUT 600)
if(AICON_HAVE_CUDA)
  target_link_libraries(test_cuda_allreduce PRIVATE CUDA::cudart)
endif()
