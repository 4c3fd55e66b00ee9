#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A program linked with the core library alone runs, and needs none of what the layers above core/
# bring: MPI (collectives, train), HDF5 and with Debian's libhdf5 libcurl (io), secp256k1 and json-c
# (usage records). ldd lists every library loaded, those the direct ones pull in included.
# usage: core_only.sh PROGRAM
set -euo pipefail
prog=$1
"$prog"
libs=$(ldd "$prog")
found=$(grep -oE 'lib(curl|secp256k1|json-c|hdf5|mpi)[^ ]*' <<<"$libs" || true)
if [ -n "$found" ]; then
    echo "FAIL: $prog, linked with aicon_core alone, needs: $(echo $found)" >&2
    echo "$libs" >&2
    exit 1
fi
echo "core_only: $prog needs none of libcurl, libsecp256k1, libjson-c, libhdf5, libmpi"
