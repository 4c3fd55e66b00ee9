# SPDX-License-Identifier: Apache-2.0
# Usage records: Keccak-256, secp256k1 and EIP-712 against published vectors; the file ledger,
# spool and flush end to end (tests/cli/usage_*.sh).
aicon_test_exe(test_chain_crypto test_chain_crypto.c)
target_link_libraries(test_chain_crypto PRIVATE aicon_usage)
add_test(NAME chain_crypto COMMAND test_chain_crypto)
set_tests_properties(chain_crypto PROPERTIES LABELS "unit" TIMEOUT 30)

# End to end through `aicon train` (tests/cli/usage_*.sh, after the cli_data fixture of cli.cmake;
# written out here because cli.cmake's helper is defined after this file is read).
function(aicon_usage_test name script timeout)
  add_test(NAME ${name}
    COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/${script} $<TARGET_FILE:aicon_cli>
            ${CMAKE_CURRENT_BINARY_DIR}/cli-data ${ARGN} ${AICON_MPIRUN})
  set_tests_properties(${name} PROPERTIES LABELS "cli;mpi" TIMEOUT ${timeout} ENVIRONMENT "${AICON_TEST_ENV}"
    FIXTURES_REQUIRED aicon_cli_data)
endfunction()
aicon_usage_test(cli_usage_ledger usage_ledger.sh 180)
# 27 forgeries of a real ledger (tests/cli/ledger_forge.py) that verify must refuse, naming the line.
aicon_usage_test(cli_usage_forgery usage_forgery.sh 180)
aicon_usage_test(cli_proof_signed proof_signed.sh 120)
aicon_usage_test(cli_usage_http usage_http.sh 120)
# The eth:// destination on ganache (tests/chain/ganache.sh; the npm cache chain_eth.cmake uses),
# the chain stopped mid-job and the spool flushed. Skipped (77) only when npm cannot install ganache.
aicon_usage_test(cli_usage_eth usage_eth.sh 420 ${CMAKE_CURRENT_BINARY_DIR}/chain-npm)
set_tests_properties(cli_usage_eth PROPERTIES LABELS "cli;mpi;chain" SKIP_RETURN_CODE 77 RESOURCE_LOCK chain-npm)
