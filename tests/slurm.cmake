# SPDX-License-Identifier: Apache-2.0
# A real Slurm on this machine (tests/slurm/slurm.sh): munged, slurmctld and slurmd of its own, the
# examples/slurm/ batch scripts submitted with sbatch, their output and checkpoints checked. It
# installs Debian's slurm-wlm and munge when missing; exit 77 (skip) where it cannot run as root.
# Uses the cli_data fixture's data sets (tests/cli.cmake, included before this file).
add_test(NAME ops_slurm
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/slurm/slurm.sh $<TARGET_FILE:aicon_cli> ${AICON_CLI_DATA})
set_tests_properties(ops_slurm PROPERTIES
  LABELS "ops;slow" TIMEOUT 300 SKIP_RETURN_CODE 77 FIXTURES_REQUIRED aicon_cli_data
  ENVIRONMENT "${AICON_TEST_ENV}")
