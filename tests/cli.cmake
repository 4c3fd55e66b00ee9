# SPDX-License-Identifier: Apache-2.0
# End-to-end tests of the `aicon train` command (tests/cli/): bash scripts drive the aicon binary
# under mpirun and check its files with Debian's Python, h5py and numpy. Every test name starts with
# cli_ and carries the label cli; multi-rank ones also mpi.
set(AICON_CLI_DIR ${CMAKE_CURRENT_SOURCE_DIR}/cli)
set(AICON_CLI_DATA ${CMAKE_CURRENT_BINARY_DIR}/cli-data)
set(AICON_CLI_PYTHON /usr/bin/python3) # Debian's, with python3-h5py; never a pyenv one on PATH

# Fixture: small HDF5 data sets cut from Debian's Fashion-MNIST (2048 / 512 / 200 training samples,
# 512 test samples).
add_test(NAME cli_data COMMAND ${AICON_CLI_PYTHON} -E -s ${AICON_CLI_DIR}/make_data.py ${AICON_CLI_DATA})
set_tests_properties(cli_data PROPERTIES LABELS "cli" TIMEOUT 60 FIXTURES_SETUP aicon_cli_data)

# aicon_cli_test(NAME SCRIPT [NO_DATA] [LABELS ...] [TIMEOUT s] [ARGS ...] [ENV ...]): runs
# SCRIPT AICON DATA_DIR ARGS... MPIRUN..., after the cli_data fixture unless NO_DATA.
function(aicon_cli_test name script)
  cmake_parse_arguments(T "NO_DATA" "TIMEOUT" "LABELS;ARGS;ENV" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 60)
  endif()
  add_test(NAME ${name}
    COMMAND bash ${AICON_CLI_DIR}/${script} $<TARGET_FILE:aicon_cli> ${AICON_CLI_DATA} ${T_ARGS} ${AICON_MPIRUN})
  set_tests_properties(${name} PROPERTIES
    LABELS "cli;${T_LABELS}" TIMEOUT ${T_TIMEOUT} ENVIRONMENT "${AICON_TEST_ENV};${T_ENV}")
  if(NOT T_NO_DATA)
    set_tests_properties(${name} PROPERTIES FIXTURES_REQUIRED aicon_cli_data)
  endif()
endfunction()

aicon_cli_test(cli_help help.sh NO_DATA LABELS unit TIMEOUT 30)
# aicon tokenize --bytes on three fortune files: llm.c headers, the bytes as tokens, the split; bad
# flags and a missing input named (about 1 s).
aicon_cli_test(cli_tokenize tokenize.sh NO_DATA LABELS unit TIMEOUT 60)
# aicon generate and aicon export --model gpt on a GPT trained 150 steps on two fortune files: seeds,
# greedy, top-k, the output's length, errors naming file and flag; onnxruntime on the export against
# PyTorch's logits (1e-4) and aicon's greedy text (about 15 s once onnxruntime is installed).
aicon_cli_test(cli_generate generate.sh NO_DATA LABELS mpi TIMEOUT 400
  ARGS ${CMAKE_CURRENT_BINARY_DIR}/onnxruntime-node)
# aicon generate --model FILE.onnx on PyTorch's GPT export equals PyTorch's greedy text; a checkpoint of
# that file trained by aicon generates its export's text (about 10 s).
aicon_cli_test(cli_generate_onnx generate_onnx.sh NO_DATA LABELS mpi TIMEOUT 120)
aicon_cli_test(cli_reproducible reproducible.sh LABELS mpi TIMEOUT 120)
aicon_cli_test(cli_resume_mlp_np2 resume.sh LABELS mpi TIMEOUT 180 ARGS 2 mlp train.h5)
aicon_cli_test(cli_resume_mlp_adamw_np2 resume.sh LABELS mpi TIMEOUT 180 ARGS 2 mlp train.h5
  ENV "RESUME_FLAGS=--optimizer adamw --weight-decay 0.01 --lr-schedule step --lr-step-size 10 --warmup-steps 3")
aicon_cli_test(cli_resume_lenet_np1 resume.sh TIMEOUT 180 ARGS 1 lenet train512.h5)
aicon_cli_test(cli_dp_equivalence dp_equivalence.sh LABELS mpi TIMEOUT 150)
aicon_cli_test(cli_checkpoint checkpoint.sh LABELS mpi TIMEOUT 120)
# --accumulate 4 x --batch 16 against --batch 64 on 2 ranks, 20 steps of mlp and lenet: equal to 1e-5
# relative (about 15 s).
aicon_cli_test(cli_accumulate accumulate.sh LABELS mpi TIMEOUT 150)
# --checkpoint-dir: a run killed (kill -9) after two checkpoints, resumed with --resume auto (also past
# a truncated newest checkpoint), ends bitwise equal to an uninterrupted one (about 10 s).
aicon_cli_test(cli_restart restart.sh LABELS mpi TIMEOUT 150)
# SIGTERM to the ranks and SIGUSR1 to mpirun mid-run: a checkpoint, exit status 6, and --resume auto
# ends bitwise equal to an uninterrupted run (about 12 s).
aicon_cli_test(cli_stop_signal stop_signal.sh LABELS mpi TIMEOUT 150)
# A checkpoint directory on a tmpfs too small for a second checkpoint, then read-only: a clear error,
# the first checkpoint intact (about 8 s). Mounts a tmpfs: skipped (77) without root.
aicon_cli_test(cli_disk_full disk_full.sh LABELS mpi TIMEOUT 120)
set_tests_properties(cli_disk_full PROPERTIES SKIP_RETURN_CODE 77)
foreach(case missing_data truncated_idx idx_header_lies wrong_model corrupt_resume truncated_resume
             corrupt_data truncated_data huge_label unknown_flag bad_epochs bad_lr)
  aicon_cli_test(cli_bad_${case} bad_input.sh LABELS mpi TIMEOUT 120 ARGS ${case})
endforeach()
# A NaN in a data set refused at load; a non-finite loss stops the run naming step and rank, or with
# --skip-nonfinite is skipped on every rank and counted (about 6 s).
aicon_cli_test(cli_nonfinite nonfinite.sh LABELS mpi TIMEOUT 120)
# Proof logs: aicon verify replays an honest 2-rank job (all 4 segments, and 1 chosen by seed) and
# names what was tampered with: an edited digest, a rewritten log, a perturbed checkpoint, another
# learning rate, another data order (down to the input op), skipped steps, zero gradients, the
# wrong world size (about 70 s).
aicon_cli_test(cli_proof proof.sh LABELS mpi TIMEOUT 240)
aicon_cli_test(cli_proof_diloco proof_diloco.sh LABELS mpi TIMEOUT 180)
# Damaged checkpoints (a state scalar of the wrong shape or type, a flipped byte in a tensor, NaN, a
# negative epoch, 2^62 steps, a missing checksum) refused naming file and dataset; a format-1 file
# without checksums still resumes, bitwise equal to the same one with them (about 15 s).
aicon_cli_test(cli_bad_checkpoint bad_checkpoint.sh LABELS mpi TIMEOUT 150)
# Checkpoints of an earlier aicon (tests/fixtures/checkpoints) resume: the architecture hash is stable.
aicon_cli_test(cli_old_checkpoints old_checkpoints.sh LABELS mpi TIMEOUT 120)
# A checkpoint and a data set on which libhdf5 itself dies of SIGSEGV: refused naming the file.
aicon_cli_test(cli_hdf5_crash hdf5_crash.sh LABELS mpi TIMEOUT 60)
# Labels 200 and 255 in 10-class HDF5 sets (built-in models) and 10 for an ONNX model of 10 logits
# refused naming the file, the sample and the label; --classes 201 trains; an IDX test set of another
# shape named by its file (about 15 s).
aicon_cli_test(cli_bad_labels bad_labels.sh LABELS mpi TIMEOUT 150)
aicon_cli_test(cli_progress progress.sh LABELS unit TIMEOUT 60)
# --log-every and --metrics with --max-steps 23: step lines, JSONL records, the summary's epochs.
aicon_cli_test(cli_metrics metrics.sh LABELS mpi TIMEOUT 120)
aicon_cli_test(cli_timeline timeline.sh LABELS mpi TIMEOUT 120)
aicon_cli_test(cli_buckets buckets.sh LABELS mpi TIMEOUT 150)
aicon_cli_test(cli_diloco diloco.sh LABELS mpi TIMEOUT 240)
# --sync diloco's checkpoints: taken every 5 steps without changing the run; one rank of 4 killed,
# --resume auto on 4 ranks ends bitwise as the uninterrupted run, on 3 it regroups and finishes.
aicon_cli_test(cli_diloco_restart diloco_restart.sh LABELS mpi TIMEOUT 360)
aicon_cli_test(cli_onnx_train onnx_train.sh LABELS mpi TIMEOUT 180)
# ONNX files aicon would read differently from what they say (a NUL in an op type, an INT alpha,
# opset 999, another domain, a declared output shape the graph does not make): refused on 2 ranks.
aicon_cli_test(cli_onnx_strict onnx_strict.sh LABELS mpi TIMEOUT 120)

# ONNX export (train --export, aicon export): the ONNX checker, a re-import against the checkpoint,
# and onnxruntime (npm onnxruntime-node, cached under the build tree) on 256 test samples.
aicon_cli_test(cli_onnx_export onnx_export.sh LABELS mpi TIMEOUT 400
  ARGS $<TARGET_FILE:test_onnx_export> ${CMAKE_CURRENT_BINARY_DIR}/onnxruntime-node)

# An export carries the input standardization: lenet on 2 ranks from raw IDX bytes, the checkpoint's
# /preprocess, Sub/Div and metadata_props in the file, onnxruntime-node fed raw pixels matching the
# run's test accuracy; an older checkpoint resumes; an ONNX-imported model keeps its names.
aicon_cli_test(cli_onnx_preprocess onnx_preprocess.sh LABELS mpi TIMEOUT 400
  ARGS $<TARGET_FILE:test_onnx_export> ${CMAKE_CURRENT_BINARY_DIR}/onnxruntime-node)

# ONNX round trip: a PyTorch CNN imported, trained one full epoch of Fashion-MNIST on 2 ranks and
# exported; the checker, aicon's re-import and onnxruntime-node on the whole 10000-image test set.
aicon_cli_test(cli_onnx_roundtrip onnx_roundtrip.sh NO_DATA LABELS mpi TIMEOUT 400
  ARGS $<TARGET_FILE:test_onnx_export> ${CMAKE_CURRENT_BINARY_DIR}/onnxruntime-node)

# The stall watchdog: one of 3 ranks killed (kill -9), then one frozen (kill -STOP); the others stop
# within 30 s naming it, and nothing of the run is left behind (about 10 s).
aicon_cli_test(cli_rank_failure rank_failure.sh LABELS mpi TIMEOUT 120)
