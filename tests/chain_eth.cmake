# SPDX-License-Identifier: Apache-2.0
# chain/: RLP, ABI and EIP-155 against published vectors (chain_eth), and the UsageLedger contract on
# a local ganache (chain_contract; npm ganache@7 and solc@0.8 cached under the build tree, skipped
# only when npm cannot install them).
aicon_test_exe(test_chain_eth test_chain_eth.c)
target_link_libraries(test_chain_eth PRIVATE aicon_usage PkgConfig::JSONC)
add_test(NAME chain_eth COMMAND test_chain_eth)
set_tests_properties(chain_eth PROPERTIES LABELS unit TIMEOUT 60)

set(AICON_CHAIN_NPM ${CMAKE_CURRENT_BINARY_DIR}/chain-npm)
add_test(NAME chain_contract
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/chain/contract.sh $<TARGET_FILE:test_chain_eth> ${AICON_CHAIN_NPM}
          $<TARGET_FILE:aicon_cli>)
set_tests_properties(chain_contract PROPERTIES LABELS "chain" TIMEOUT 420 SKIP_RETURN_CODE 77)
