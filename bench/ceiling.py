"""The machine's ceilings: float32 FMA peak, memory bandwidth and numpy's sgemm, at 1, 2, 4, ... threads.

    python bench/ceiling.py [--reps 11] [--threads 1,2] [--out bench/results]

(a) FMA peak: 14 independent vector accumulators `acc = acc*m + c` built with fastconv's SIMD layer
    (fastconv/kernels/numba/simd.py), a loop of ~0.1 s per thread; GFLOP/s = 2 * FMAs * W / s. Measured at
    the platform's width and, where that is 16, at width 8 too (what the AVX2/NEON configuration gets).
    14 accumulators plus the two operands fill 16 registers: no spills at W=8 on AVX2 and at W=16 on AVX-512.
(b) Memory bandwidth: STREAM-like copy (a = b, 8 bytes/element) and triad (a = b + s*c, 12 bytes/element;
    write-allocate traffic not counted, as in STREAM) over 128 MiB arrays (4x the L3 here), numba prange.
(c) numpy sgemm 1024^3 (np.dot, float32), in a subprocess per thread count (OPENBLAS/OMP/MKL_NUM_THREADS).
Each number: median and max over --reps repetitions after a warm-up.
Writes bench/results/ceiling-<date>-<time>.md and .json with the machine description.

Other benchmarks get the peak from `measured_peak_gflops(threads)`: the newest ceiling json for this CPU
(bench/results), or a fresh measurement when there is none.
"""
from __future__ import annotations

import argparse
import datetime as dt
import functools
import glob
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

import numba
from numba import njit, prange

from fastconv.kernels.numba.simd import (
    lanes,
    vadd,
    vbroadcast,
    vfma,
    vload,
    vreduce_add,
    vstore,
    width_token,
)
from fastconv.platform import Platform

RESULTS = os.path.join(REPO, "bench", "results")
ACCUMULATORS = 14
FMA_SECONDS = 0.1           # per repetition and thread
STREAM_ELEMENTS = 32 << 20  # float32 elements per array: 128 MiB


@njit(cache=True)
def _fma_chains(seed, n, w):
    """14 independent FMA chains of n steps each; returns their sum so nothing is dead code."""
    m = vbroadcast(seed[0], w)
    c = vbroadcast(seed[1], w)
    a0 = vbroadcast(seed[2], w)
    a1 = vadd(a0, c)
    a2 = vadd(a1, c)
    a3 = vadd(a2, c)
    a4 = vadd(a3, c)
    a5 = vadd(a4, c)
    a6 = vadd(a5, c)
    a7 = vadd(a6, c)
    a8 = vadd(a7, c)
    a9 = vadd(a8, c)
    a10 = vadd(a9, c)
    a11 = vadd(a10, c)
    a12 = vadd(a11, c)
    a13 = vadd(a12, c)
    for _ in range(n):
        a0 = vfma(a0, m, c)
        a1 = vfma(a1, m, c)
        a2 = vfma(a2, m, c)
        a3 = vfma(a3, m, c)
        a4 = vfma(a4, m, c)
        a5 = vfma(a5, m, c)
        a6 = vfma(a6, m, c)
        a7 = vfma(a7, m, c)
        a8 = vfma(a8, m, c)
        a9 = vfma(a9, m, c)
        a10 = vfma(a10, m, c)
        a11 = vfma(a11, m, c)
        a12 = vfma(a12, m, c)
        a13 = vfma(a13, m, c)
    s = vadd(vadd(vadd(a0, a1), vadd(a2, a3)), vadd(vadd(a4, a5), vadd(a6, a7)))
    s = vadd(s, vadd(vadd(vadd(a8, a9), vadd(a10, a11)), vadd(a12, a13)))
    return vreduce_add(s)


@njit(cache=True, parallel=True)
def _fma_chains_par(seed, n, out, w):
    for t in prange(out.size):
        out[t] = _fma_chains(seed, n, w)


@njit(cache=True, parallel=True)
def _triad(a, b, c, s, chunks, w):
    """a = b + s*c over contiguous chunks; tail of each chunk scalar."""
    n = a.size
    step = lanes(w)
    sv = vbroadcast(s, w)
    for k in prange(chunks):
        lo = n * k // chunks
        hi = n * (k + 1) // chunks
        i = lo
        while i + step <= hi:
            vstore(a, i, vfma(vload(c, i, w), sv, vload(b, i, w)))
            i += step
        for j in range(i, hi):
            a[j] = b[j] + s * c[j]


@njit(cache=True, parallel=True)
def _copy(a, b, chunks, w):
    n = a.size
    step = lanes(w)
    for k in prange(chunks):
        lo = n * k // chunks
        hi = n * (k + 1) // chunks
        i = lo
        while i + step <= hi:
            vstore(a, i, vload(b, i, w))
            i += step
        for j in range(i, hi):
            a[j] = b[j]


def _stats(values: list[float]) -> dict:
    return {"median": float(np.median(values)), "max": float(max(values)), "runs": [round(v, 2) for v in values]}


def _timed(fn, reps: int) -> list[float]:
    fn()  # warm-up (compiles on a cold cache, wakes the thread pool)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def measure_fma_peak(threads: int, width: int, reps: int = 11) -> dict:
    """GFLOP/s of `threads` threads each running the 14 FMA chains at `width` lanes."""
    w = width_token(width)
    seed = np.array([0.9999999, 1e-7, 0.5], np.float32)  # converges to ~1: no overflow, no denormals
    n = max(1000, int(FMA_SECONDS * 150e9 / (2 * ACCUMULATORS * width)))
    flops = 2.0 * ACCUMULATORS * width * n * threads
    if threads == 1:
        times = _timed(lambda: _fma_chains(seed, n, w), reps)
    else:
        out = np.zeros(threads, np.float32)
        numba.set_num_threads(threads)
        times = _timed(lambda: _fma_chains_par(seed, n, out, w), reps)
    return _stats([flops / t / 1e9 for t in times])


def measure_bandwidth(threads: int, width: int, reps: int = 11) -> dict:
    """GB/s (1e9 bytes) of copy and triad with `threads` threads."""
    w = width_token(width)
    n = STREAM_ELEMENTS
    a = np.zeros(n, np.float32)
    b = np.full(n, 1.0, np.float32)
    c = np.full(n, 2.0, np.float32)
    numba.set_num_threads(threads)
    chunks = threads * 8
    triad = _timed(lambda: _triad(a, b, c, np.float32(3.0), chunks, w), reps)
    assert a[0] == 7.0 and a[-1] == 7.0
    copy = _timed(lambda: _copy(a, b, chunks, w), reps)
    return {"copy": _stats([8.0 * n / t / 1e9 for t in copy]), "triad": _stats([12.0 * n / t / 1e9 for t in triad])}


_SGEMM = """
import json, time, numpy as np
rng = np.random.default_rng(0)
a, b = rng.random((1024, 1024), np.float32), rng.random((1024, 1024), np.float32)
c = np.empty_like(a)
np.dot(a, b, out=c); np.dot(a, b, out=c)
times = []
for _ in range({reps}):
    t0 = time.perf_counter(); np.dot(a, b, out=c); times.append(time.perf_counter() - t0)
print(json.dumps(times))
"""


def measure_sgemm(threads: int, reps: int = 11) -> dict:
    """numpy float32 1024^3 matmul GFLOP/s, BLAS limited to `threads` threads (fresh subprocess)."""
    env = dict(os.environ)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
        env[var] = str(threads)
    res = subprocess.run([sys.executable, "-c", _SGEMM.format(reps=reps)], env=env, check=True,
                         capture_output=True, text=True)
    times = json.loads(res.stdout.strip().splitlines()[-1])
    return _stats([2.0 * 1024 ** 3 / t / 1e9 for t in times])


def _cpuinfo() -> dict:
    info = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, val = line.partition(":")
                key = key.strip()
                if key in ("model name", "cpu family", "model", "stepping", "cpu MHz") and key not in info:
                    info[key] = val.strip()
    except OSError:
        pass
    caches = []
    for d in sorted(glob.glob("/sys/devices/system/cpu/cpu0/cache/index*")):
        try:
            parts = []
            for name in ("level", "type", "size"):
                with open(os.path.join(d, name)) as f:
                    parts.append(f.read().strip())
            caches.append("L{} {} {}".format(*parts))
        except OSError:
            pass
    info["caches (per cpu0)"] = ", ".join(caches)
    return info


def machine_description() -> dict:
    import llvmlite

    import fastconv

    info = _cpuinfo()
    plat = Platform.detect()
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "cpu": info.get("model name", platform.processor() or "unknown"),
        "cpu_family_model_stepping": "/".join(info.get(k, "?") for k in ("cpu family", "model", "stepping")),
        "cpu_mhz_reported": info.get("cpu MHz"),
        "caches": info.get("caches (per cpu0)"),
        "logical_cores": os.cpu_count(),
        "usable_cores": usable,
        "numba_threads": numba.config.NUMBA_NUM_THREADS,
        "machine": platform.machine(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "llvmlite": llvmlite.__version__,
        "fastconv": getattr(fastconv, "__version__", "?"),
        "isa": plat.isa,
        "simd_width": plat.simd_width,
    }


def _thread_counts(max_threads: int) -> list[int]:
    counts, t = [], 1
    while t < max_threads:
        counts.append(t)
        t *= 2
    return counts + [max_threads]


def run(reps: int, threads: list[int], widths: list[int]) -> dict:
    result = {"date": dt.datetime.now().isoformat(timespec="seconds"), "machine": machine_description(),
              "reps": reps, "accumulators": ACCUMULATORS, "stream_elements": STREAM_ELEMENTS,
              "fma_peak_gflops": {}, "bandwidth_gbs": {}, "sgemm_1024_gflops": {}}
    for w in widths:
        result["fma_peak_gflops"][str(w)] = {str(t): measure_fma_peak(t, w, reps) for t in threads}
    result["bandwidth_gbs"] = {str(t): measure_bandwidth(t, widths[0], reps) for t in threads}
    result["sgemm_1024_gflops"] = {str(t): measure_sgemm(t, reps) for t in threads}
    return result


def to_markdown(r: dict) -> str:
    m = r["machine"]
    threads = list(r["sgemm_1024_gflops"])

    def cell(s):
        return f"{s['median']:.1f} (max {s['max']:.1f})"

    lines = [f"# Machine ceiling ({r['date'].replace('T', ' ')})", "",
             (f"- CPU: {m['cpu']} (family/model/stepping {m['cpu_family_model_stepping']}), "
              f"{m['logical_cores']} logical cores, {m['usable_cores']} usable; caches {m['caches']}"),
             (f"- {m['os']}; python {m['python']}, numpy {m['numpy']}, numba {m['numba']}, "
              f"llvmlite {m['llvmlite']}, fastconv {m['fastconv']} (isa {m['isa']}, SIMD width {m['simd_width']})"),
             (f"- median (max) of {r['reps']} repetitions after a warm-up. FMA peak: {r['accumulators']} "
              "independent vector accumulators per thread, GFLOP/s = 2 x FMAs x W / s. Bandwidth: 128 MiB arrays, "
              "copy counts 8 B/element, triad (a = b + s*c) 12 B/element (STREAM convention)."),
             ("- Measured on a shared VM (other processes may run on the other cores): the best of several runs "
              "is kept; 2-thread numbers are the most exposed to interference."), "",
             "| measure | " + " | ".join(f"{t} thread{'s' if t != '1' else ''}" for t in threads) + " |",
             "|---|" + "---|" * len(threads)]
    for w, per in r["fma_peak_gflops"].items():
        lines.append(f"| float32 FMA peak, W={w} (GFLOP/s) | " + " | ".join(cell(per[t]) for t in threads) + " |")
    for kind in ("copy", "triad"):
        lines.append(f"| memory bandwidth, {kind} (GB/s) | "
                     + " | ".join(cell(r["bandwidth_gbs"][t][kind]) for t in threads) + " |")
    lines.append("| numpy sgemm 1024^3 (GFLOP/s) | "
                 + " | ".join(cell(r["sgemm_1024_gflops"][t]) for t in threads) + " |")
    w0 = str(m["simd_width"])
    if w0 in r["fma_peak_gflops"]:
        peak1 = r["fma_peak_gflops"][w0]["1"]["median"]
        sg = r["sgemm_1024_gflops"]["1"]["median"]
        lines += ["", f"numpy sgemm at 1 thread reaches {100 * sg / peak1:.0f}% of the W={w0} FMA peak."]
    return "\n".join(lines) + "\n"


def _newest_result(cpu: str, isa: str) -> dict | None:
    for path in sorted(glob.glob(os.path.join(RESULTS, "ceiling-*.json")), reverse=True):
        try:
            with open(path) as f:
                r = json.load(f)
        except (OSError, ValueError):
            continue
        if r.get("machine", {}).get("cpu") == cpu and r["machine"].get("isa") == isa:
            return r
    return None


@functools.cache
def measured_peak_gflops(threads: int = 1, width: int | None = None) -> float:
    """Median float32 FMA peak (GFLOP/s) at `threads` threads and `width` lanes (default: the platform's).

    Read from the newest bench/results/ceiling-*.json recorded on this CPU model and ISA; measured now
    (about 1-2 s, plus compilation on a cold cache) when no such file has that thread count and width."""
    plat = Platform.detect()
    width = width or plat.simd_width
    cpu = _cpuinfo().get("model name", platform.processor() or "unknown")
    r = _newest_result(cpu, plat.isa)
    try:
        return float(r["fma_peak_gflops"][str(width)][str(threads)]["median"])
    except (TypeError, KeyError):
        return measure_fma_peak(threads, width, reps=7)["median"]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=11, help="repetitions per measurement (>= 7)")
    ap.add_argument("--threads", default=None, help="comma-separated thread counts (default 1,2,4,..,all)")
    ap.add_argument("--out", default=RESULTS, help="folder for the results")
    args = ap.parse_args(argv)
    threads = ([int(t) for t in args.threads.split(",")] if args.threads
               else _thread_counts(numba.config.NUMBA_NUM_THREADS))
    width = Platform.detect().simd_width
    widths = [width] + ([8] if width == 16 else [])
    result = run(max(args.reps, 7), threads, widths)
    os.makedirs(args.out, exist_ok=True)
    stem = os.path.join(args.out, "ceiling-" + dt.datetime.now().strftime("%Y-%m-%d-%H%M%S"))
    with open(stem + ".json", "w") as f:
        json.dump(result, f, indent=1)
    md = to_markdown(result)
    with open(stem + ".md", "w") as f:
        f.write(md)
    print(md)
    print(f"written: {stem}.md, {stem}.json")


if __name__ == "__main__":
    main()
