# SPDX-License-Identifier: Apache-2.0
# Placement (--bind, hwloc) and aicon info: plans on synthetic machines and PCI lookup here (unit),
# then the bindings of real ranks as the kernel reports them (cli).
aicon_test_exe(test_placement test_placement.c)
add_test(NAME placement_plan COMMAND test_placement)
set_tests_properties(placement_plan PROPERTIES LABELS unit TIMEOUT 30)
aicon_cli_test(cli_info info.sh LABELS mpi TIMEOUT 120)
# Skipped (77, which scripts/test.sh counts as a failure) on a machine that gives it fewer than 2 CPUs.
set_tests_properties(cli_info PROPERTIES SKIP_RETURN_CODE 77)
