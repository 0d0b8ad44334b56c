#!/usr/bin/env bash
# ARM job: the kernel and op tests on an emulated AArch64 Python (qemu-user), see docs/PORTABILITY.md.
#
# Everything lands in one git-ignored cache folder ($FASTCONV_ARM_DIR, default .arm/), built once:
#   sysroot/  Debian bookworm's arm64 python3.11 and its libraries, unpacked with dpkg -x (not installed)
#   site/     AArch64 wheels (numpy, numba, llvmlite, onnx, onnxruntime, pytest, hypothesis) from PyPI
#   xgcc/     Debian's x86-64 -> AArch64 cross compiler, unpacked, for the Cython executor extension
#   qemu/     qemu-user-static, unpacked, when the host has no qemu-aarch64-static
#   numba/    the emulated run's Numba cache (AArch64 machine code, never mixed with the x86 cache)
# The host is left as it was: apt runs with a private configuration (its own sources and package lists, an
# empty dpkg status, APT::Architecture=arm64), so nothing is installed and `dpkg --add-architecture` is never
# needed; the script checks at the end that the host's dpkg architectures did not change.
# Usage: .ci/arm.sh [pytest arguments]    FASTCONV_ARM_FRESH=1 rebuilds the cache folder from scratch.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
ARM=${FASTCONV_ARM_DIR:-$REPO/.arm}
: "${ARM:?}"
MIRROR=${FASTCONV_ARM_MIRROR:-http://deb.debian.org}
HOST_PY=${HOST_PY:-python3}
export PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1
start=$(date +%s)
foreign_before=$(dpkg --print-foreign-architectures)

# The AArch64 wheels (and the pure-Python test tools) match the host's versions, so both runs test the same
# stack. onnxruntime >= 1.28 crashes at import under qemu-user 7.2 (its cpuinfo topology probe reads the x86
# host's /sys and dereferences NULL), so the emulated run takes 1.27.0; it only computes the tests' references.
PINS=$("$HOST_PY" - <<'PY'
import importlib.metadata as m
def pin(p):
    try:
        return f"{p}=={m.version(p)}"
    except m.PackageNotFoundError:
        return p
print(" ".join(pin(p) for p in ["numpy", "numba", "llvmlite", "onnx", "pytest", "pytest-benchmark", "hypothesis"]))
PY
)
PINS="$PINS onnxruntime==1.27.0"
DEBS_ARM64="python3.11 libpython3.11-dev libstdc++6 libgomp1"
DEBS_CROSS="gcc-12-aarch64-linux-gnu:amd64 cpp-12-aarch64-linux-gnu:amd64 binutils-aarch64-linux-gnu:amd64
            libgcc-12-dev-arm64-cross:all"
STAMP="pins: $PINS; arm64: $DEBS_ARM64; cross: $DEBS_CROSS; mirror: $MIRROR"

if [ "${FASTCONV_ARM_FRESH:-0}" = 1 ]; then rm -rf "${ARM:?}"; fi
mkdir -p "$ARM/apt/empty" "$ARM/apt/lists/partial" "$ARM/apt/cache/archives/partial"
: > "$ARM/apt/status"
{
    echo "deb [arch=arm64,amd64] $MIRROR/debian bookworm main"
    echo "deb [arch=arm64,amd64] $MIRROR/debian bookworm-updates main"
    echo "deb [arch=arm64,amd64] $MIRROR/debian-security bookworm-security main"
} > "$ARM/apt/sources.list"
APT=(apt-get -q -o APT::Architecture=arm64 -o APT::Architectures::=arm64 -o APT::Architectures::=amd64
     -o Dir::State::Lists="$ARM/apt/lists" -o Dir::State::status="$ARM/apt/status"
     -o Dir::Cache="$ARM/apt/cache" -o Dir::Etc::SourceList="$ARM/apt/sources.list"
     -o Dir::Etc::SourceParts="$ARM/apt/empty" -o Dir::Etc::Preferences="$ARM/apt/empty"
     -o Dir::Etc::PreferencesParts="$ARM/apt/empty" -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
logged() {  # run quietly into $ARM/setup.log; show its end if the command fails
    "$@" >> "$ARM/setup.log" 2>&1 || { tail -30 "$ARM/setup.log"; echo "arm: failed: $*"; exit 1; }
}
unpack_x86() {  # unpack_x86 DEST PACKAGE...: amd64 packages downloaded and unpacked into DEST, not installed
    local dest=$1
    shift
    rm -rf "${ARM:?}/apt/x86"
    mkdir -p "$ARM/apt/x86" "$dest"
    [ -n "$(ls "$ARM/apt/lists" | grep -v '^partial$' || true)" ] || logged "${APT[@]}" update
    (cd "$ARM/apt/x86" && logged "${APT[@]}" download "$@")
    for deb in "$ARM"/apt/x86/*.deb; do dpkg -x "$deb" "$dest"; done
}

if [ ! -f "$ARM/stamp" ] || [ "$(cat "$ARM/stamp")" != "$STAMP" ]; then
    echo "arm: building the AArch64 environment in $ARM (log: $ARM/setup.log)"
    rm -rf "${ARM:?}/sysroot" "${ARM:?}/site" "${ARM:?}/xgcc" "${ARM:?}/host" "${ARM:?}/stamp"
    rm -f "$ARM"/apt/cache/archives/*.deb
    : > "$ARM/setup.log"
    logged "${APT[@]}" update
    # arm64: python3.11 with its whole dependency closure (the empty status makes apt fetch libc6 and all)
    logged "${APT[@]}" install -d -y --no-install-recommends $DEBS_ARM64
    mkdir -p "$ARM/sysroot"
    for deb in "$ARM"/apt/cache/archives/*.deb; do dpkg -x "$deb" "$ARM/sysroot"; done
    # amd64: the cross compiler; its host libraries (gmp, mpfr, isl) come with the host's own gcc
    unpack_x86 "$ARM/xgcc" $DEBS_CROSS
    logged "$HOST_PY" -m pip install --no-warn-conflicts --target "$ARM/site" --only-binary=:all: \
        --platform manylinux_2_28_aarch64 --platform manylinux_2_27_aarch64 --platform manylinux_2_17_aarch64 \
        --platform manylinux2014_aarch64 --python-version 3.11 --implementation cp $PINS
    logged "$HOST_PY" -m pip install --no-warn-conflicts --target "$ARM/host" "Cython>=3.0"
    echo "$STAMP" > "$ARM/stamp"
    echo "arm: environment built in $(( $(date +%s) - start )) s ($(du -sh "$ARM" | cut -f1))"
fi
QEMU=$(command -v qemu-aarch64-static || echo "$ARM/qemu/usr/bin/qemu-aarch64-static")
[ -x "$QEMU" ] || unpack_x86 "$ARM/qemu" qemu-user-static:amd64

SYSROOT=$ARM/sysroot
# The emulated interpreter behind an x86 launcher script that qemu passes on as argv[0]: sys.executable is the
# launcher, so tests that start `sys.executable` in a subprocess run emulated too (no binfmt_misc needed).
PY=$SYSROOT/usr/bin/python3.11-emu
printf '#!/bin/sh\nexec env QEMU_LD_PREFIX="%s" PYTHONNOUSERSITE=1 "%s" -L "%s" -0 "%s" "%s" "$@"\n' \
    "$SYSROOT" "$QEMU" "$SYSROOT" "$PY" "$SYSROOT/usr/bin/python3.11" > "$PY"
chmod +x "$PY"
# CI=1: the ci hypothesis profile (tests/conftest.py), derandomized: the same examples, so the same compiles
export PYTHONPATH="$REPO:$ARM/site" NUMBA_CACHE_DIR="$ARM/numba" CI=1

# The executor extension, cross-compiled with setup.py's flags (-O3), next to the x86 build (git-ignored).
SUFFIX=$("$PY" -c "import importlib.machinery as m; print(m.EXTENSION_SUFFIXES[0])")
PYTHONPATH="$ARM/host" "$HOST_PY" -m cython -3 fastconv/runtime/_executor.pyx -o "$ARM/_executor.c"
LD_LIBRARY_PATH="$ARM/xgcc/usr/lib/x86_64-linux-gnu" PATH="$ARM/xgcc/usr/bin:$PATH" \
    aarch64-linux-gnu-gcc-12 --sysroot="$SYSROOT" -I"$SYSROOT/usr/include/python3.11" \
    -I"$SYSROOT/usr/include/aarch64-linux-gnu/python3.11" -O3 -fPIC -shared "$ARM/_executor.c" \
    -o "fastconv/runtime/_executor$SUFFIX"
echo "arm: setup done at $(( $(date +%s) - start )) s"

PYTEST=("$PY" -m pytest -p tests.arm.plugin -p no:cacheprovider -q)
status=0
if [ $# -gt 0 ]; then
    "${PYTEST[@]}" "$@" || status=$?
else  # the selection's shards in parallel processes, each printing its report when all are done
    shards=$(sed -n 's/^\[shard \([A-Za-z0-9_]*\)\].*/\1/p' tests/arm/selection.txt)
    pids=()
    for k in $shards; do
        # `times`: the shard's CPU time, its wall time on an otherwise idle machine (compiling is single-threaded)
        (FASTCONV_ARM_SHARD=$k "${PYTEST[@]}" --durations=10 && rc=0 || rc=$?
         echo "shard $k CPU time, user and system (2nd line):"; times; exit $rc) > "$ARM/shard$k.log" 2>&1 &
        pids+=($!)
    done
    i=0
    for k in $shards; do
        wait "${pids[$i]}" || status=1
        i=$((i + 1))
        echo "---- shard $k"
        cat "$ARM/shard$k.log"
    done
fi
[ "$(dpkg --print-foreign-architectures)" = "$foreign_before" ] || { echo "arm: host dpkg architectures changed"; exit 1; }
echo "ARM job wall time: $(( $(date +%s) - start )) s"
exit $status
