#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs, from Debian's packages, what aicon needs to build and run (and, with --test, what its test
# suite needs; with --bench, what benchmarks/ needs beyond the build; with --no-usage, leaves out what
# only usage records need, for a build with -DAICON_USAGE=OFF; with --fuzz, clang and libFuzzer for
# -DAICON_FUZZ=ON and scripts/fuzz.sh). Only missing packages are installed.
# Run as root on Debian 12.
set -euo pipefail
test=0 bench=0 usage=1 fuzz=0
for arg in "$@"; do
  case $arg in
    --test) test=1 ;;
    --bench) bench=1 ;;
    --no-usage) usage=0 ;;
    --fuzz) fuzz=1 ;;
    *) echo "install-deps: unknown option '$arg' (--test, --bench, --no-usage, --fuzz)" >&2; exit 2 ;;
  esac
done

# ocl-icd-opencl-dev: oneDNN's CMake config (dnnl-config.cmake) looks for OpenCL and fails without its
# headers; libdnnl-dev only recommends them, and recommends are not installed here.
packages=(build-essential cmake pkg-config openmpi-bin libopenmpi-dev libhdf5-dev hdf5-tools libhwloc-dev
          libopenblas-dev libdnnl-dev ocl-icd-opencl-dev zlib1g-dev libssl-dev dataset-fashion-mnist
          protobuf-c-compiler libprotobuf-c-dev libonnx-dev)
# fortunes: English text (/usr/share/games/fortunes, 2.8 MB) for README's language-model example and cli_tokenize.
packages+=(fortunes)
# Usage records: signatures, Keccak, JSON and delivery. json-c also writes the tool's JSON output
# (summaries, metrics, aicon info --json), which a build without it leaves out.
((usage)) && packages+=(libsecp256k1-dev libcurl4-openssl-dev libjson-c-dev nettle-dev)
if ((bench)); then
  # benchmarks/netns_hosts.sh: ip netns and tc; benchmarks/plot_allreduce.py: matplotlib.
  packages+=(iproute2 python3 python3-matplotlib)
fi
# libFuzzer ships in compiler-rt (libclang_rt.fuzzer), which clang itself does not pull in; clang's
# OpenMP (oneDNN's CPU runtime, the kernels' threads) is LLVM's libomp, not GCC's libgomp. llvm gives
# llvm-symbolizer: without it a sanitizer report names no functions, and tests/fuzz/run_fuzz.sh cannot
# tell a crash inside libhdf5 from one in aicon.
((fuzz)) && packages+=(clang libclang-rt-14-dev libomp-14-dev llvm)
if ((test)); then
  # PyTorch is the numerical reference; h5py and numpy write and read test files; onnx writes the
  # broken ONNX models and libonnx-testdata holds ONNX's own operator test models; torchvision gives
  # the ResNet-18 and MobileNetV2 of the ONNX training-parity test.
  packages+=(python3 python3-torch python3-h5py python3-numpy procps python3-onnx libonnx-testdata
            python3-torchvision)
  # What the test scripts call that a minimal Debian root lacks: awk, mount/umount (cli_disk_full's
  # tmpfs), and the CA bundle npm needs to reach its registry over https.
  packages+=(mawk mount ca-certificates)
  # npm fetches onnxruntime-node (runs exported models), solc and ganache (the usage-ledger contract
  # and the local chain it is tested on); a machine that already has node keeps its own.
  command -v npm >/dev/null || packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $EUID -ne 0 ]]; then
    echo "install-deps: missing Debian packages: ${missing[*]}; run as root (or sudo) to install them" >&2
    exit 1
  fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
