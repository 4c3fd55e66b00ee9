# Usage records: Keccak-256, secp256k1 and EIP-712 against published vectors; the file ledger,
# spool and flush end to end (tests/cli/usage_*.sh).
aicon_test_exe(test_chain_crypto test_chain_crypto.c)
add_test(NAME chain_crypto COMMAND test_chain_crypto)
set_tests_properties(chain_crypto PROPERTIES LABELS "unit" TIMEOUT 30)
