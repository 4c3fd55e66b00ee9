#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# scripts/fresh-root.sh CMD [ARGS...]: runs CMD in a minimal Debian 12 root made for this call alone,
# in a clone of this checkout's HEAD (/src/aicon inside), so that nothing this machine happens to have
# installed can hide a missing install step. Run as root (as CI does).
#
# The root is Debian's `mmdebstrap --variant=apt` (the Essential packages and apt, nothing else). Of
# this machine only its network settings go in: resolv.conf, the CA bundle and local CAs, npm's
# /etc/npmrc, and apt's sources and archive options. CMD sees /proc, /sys, /dev, a fresh /dev/shm and a
# tmpfs /tmp, and starts with a clean environment (HOME, PATH, LANG and CI only). Everything runs in
# private mount and PID namespaces: when CMD ends, or this script is interrupted, every process it
# started is killed with it, every mount vanishes, and the root is deleted.
#
# Only downloaded .deb files outlive a run: $AICON_APT_CACHE (default /var/cache/aicon-fresh-root) is
# mounted as apt's archive directory inside, never any installed state.
set -euo pipefail

if [[ $# -eq 0 || $1 == -h || $1 == --help ]]; then
    sed -n '3,16p' "$0" | sed 's/^# \{0,1\}//'
    [[ $# -eq 0 ]] && exit 2 || exit 0
fi
if [[ $EUID -ne 0 ]]; then
    echo "fresh-root.sh: must run as root (mmdebstrap, chroot and mounts)" >&2
    exit 1
fi
for tool in mmdebstrap unshare git; do
    command -v "$tool" >/dev/null || {
        echo "fresh-root.sh: $tool is missing (Debian: apt-get install mmdebstrap util-linux git)" >&2
        exit 1
    }
done

repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
cache=${AICON_APT_CACHE:-/var/cache/aicon-fresh-root}
mkdir -p "$cache/partial"
root=$(mktemp -d "${AICON_FRESH_ROOT_DIR:-/var/tmp}/aicon-fresh-root.XXXXXX")

# The mounts live only in the namespace below, so by the time this runs they are gone and rm cannot
# reach through a bind mount into the host's /dev or /proc; --one-file-system guards that anyway.
ns=
remove_root() {
    if [[ -n $ns ]]; then
        kill -KILL "$ns" 2>/dev/null || true
        wait "$ns" 2>/dev/null || true
    fi
    rm -rf --one-file-system "$root" "$root.src"
}
trap remove_root EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

echo "fresh-root: cloning $(git -C "$repo" rev-parse --short HEAD) into the root's /src/aicon"
git clone -q "$repo" "$root.src"

# The namespace's first process is `bash -c` below; when unshare dies (--kill-child) it is killed, and
# with it every process of the run. Job control (-m) starts unshare in the background without the
# SIGINT-ignored disposition bash gives background commands, which the tests would inherit.
set -m
unshare --mount --propagation private --pid --fork --kill-child -- bash -euo pipefail -c '
root=$1 cache=$2 src=$3
shift 3
# Where apt fetches from and how: the machine'"'"'s own sources and archive options (e.g. no Valid-Until
# check on a snapshot mirror), nothing else of /etc/apt.
apt_opts=()
for conf in /etc/apt/apt.conf.d/*; do
    grep -qE "^[[:space:]]*Acquire::" "$conf" 2>/dev/null && apt_opts+=(--aptopt="$conf")
done
sources=()
for s in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [[ -s $s ]] && sources+=("$s")
done
echo "fresh-root: mmdebstrap --variant=apt bookworm (sources: ${sources[*]:-deb.debian.org})"
mmdebstrap --quiet --variant=apt --skip=essential/unlink,cleanup/apt/cache "${apt_opts[@]}" \
    --setup-hook="mkdir -p \"\$1/var/cache/apt/archives\" && mount --bind $cache \"\$1/var/cache/apt/archives\"" \
    bookworm "$root" "${sources[@]}"

# Network settings, and only those.
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
mkdir -p "$root/etc/ssl/certs" "$root/usr/local/share/ca-certificates"
[[ -f /etc/ssl/certs/ca-certificates.crt ]] && cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
[[ -d /usr/local/share/ca-certificates ]] && cp -a /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/"
[[ -f /etc/npmrc ]] && cp -L /etc/npmrc "$root/etc/npmrc"

# What MPI and the tests need of a running system.
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys"
mount --bind /dev "$root/dev"
mount -t tmpfs -o mode=1777 shm "$root/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts"
mount --bind "$root/dev/pts/ptmx" "$root/dev/ptmx"
mount -t tmpfs -o mode=1777 tmp "$root/tmp"

mkdir -p "$root/src"
mv "$src" "$root/src/aicon"
echo "fresh-root: running $* in /src/aicon"
chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 CI="${CI:-}" \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    bash -c "cd /src/aicon && exec \"\$@\"" fresh-root "$@"
' fresh-root "$root" "$cache" "$root.src" "$@" &
ns=$!
rc=0
wait "$ns" || rc=$?
ns=
exit $rc
