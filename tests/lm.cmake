# SPDX-License-Identifier: Apache-2.0
# Language-model training end to end (tests/lm/): `aicon train --task lm` on llm.c shards that aicon
# tokenize makes of Debian's fortunes, against PyTorch 1.13 and against itself. Scripts source
# tests/cli/common.sh and get AICON FORTUNES_DIR MPIRUN...
set(AICON_LM_DIR ${CMAKE_CURRENT_SOURCE_DIR}/lm)
set(AICON_FORTUNES /usr/share/games/fortunes CACHE PATH "Debian's fortunes, the language-model tests' text")

function(aicon_lm_test name script timeout)
  add_test(NAME ${name}
    COMMAND bash ${AICON_LM_DIR}/${script} $<TARGET_FILE:aicon_cli> ${AICON_FORTUNES} ${AICON_MPIRUN})
  set_tests_properties(${name} PROPERTIES LABELS "cli;mpi" TIMEOUT ${timeout} ENVIRONMENT "${AICON_TEST_ENV}")
endfunction()

# The GPT of benchmarks/pytorch_gpt.py exported to ONNX: 50 AdamW steps in file order equal PyTorch's
# losses within 1e-4 relative (1.5e-6 measured), and 2 ranks x batch 4 those of 1 x 8 within 1e-5
# (about 8 s).
aicon_lm_test(lm_parity parity.sh 180)
# The built-in GPT on 2 ranks: the same seed twice gives the same params_sha256, and a run killed
# (kill -9) after its first --checkpoint-every 10 checkpoint ends, with --resume auto, on the
# uninterrupted run's parameters (about 15 s).
aicon_lm_test(lm_restart restart.sh 180)
