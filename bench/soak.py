"""Soak test: many runs of a small model, checking that RSS stays flat and results stay bitwise identical.

    python bench/soak.py [--model models/lenet5.onnx] [--runs 10000] [--threads 2] [--batches 1,4]
                         [--concurrent 0]

Runs cycle through the batch sizes (one plan each). With --concurrent K, K Python threads share the session.
Prints RSS after warm-up and every 10% of the runs, the growth, runs per second and whether every result was
bitwise identical to the first run's. Exits 1 if RSS grew by more than --max-growth-mib from the first 10% on
(concurrent runs may add an arena per overlapping run until then) or a result differed.
"""
from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import fastconv


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default=os.path.join(os.path.dirname(__file__), "..", "models", "lenet5.onnx"))
    p.add_argument("--runs", type=int, default=10_000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batches", default="1,4")
    p.add_argument("--concurrent", type=int, default=0, help="Python threads sharing the session (0: serial)")
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--max-growth-mib", type=float, default=5.0)
    args = p.parse_args(argv)

    sess = fastconv.InferenceSession(args.model, num_threads=args.threads)
    inp = sess.get_inputs()[0]
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal([b if not isinstance(d, int) else d for d in inp.shape[:1]] + list(inp.shape[1:]))
          .astype(np.float32) for b in map(int, args.batches.split(","))]
    want = [sess.run(None, {inp.name: x}) for x in xs]
    warm = lambda k: sess.run(None, {inp.name: xs[k % len(xs)]})
    if args.concurrent:  # the same concurrency as the measured runs: one arena per overlapping run, made here
        with ThreadPoolExecutor(args.concurrent) as pool:
            list(pool.map(warm, range(args.warmup)))
    else:
        for k in range(args.warmup):
            warm(k)
    start_rss = rss_mib()
    print(f"model {os.path.basename(args.model)}, {args.runs} runs, num_threads {args.threads}, batches "
          f"{args.batches}, concurrent {args.concurrent}; RSS after warm-up {start_rss:.1f} MiB")
    mismatches = 0
    lock = threading.Lock()
    step = max(1, args.runs // 10)
    samples = []

    def one(k):
        nonlocal mismatches
        got = sess.run(None, {inp.name: xs[k % len(xs)]})
        if not all(np.array_equal(g, w) for g, w in zip(got, want[k % len(xs)])):
            with lock:
                mismatches += 1
        if k % step == step - 1:
            samples.append(rss_mib())
            print(f"  run {k + 1:>7}: RSS {samples[-1]:8.1f} MiB", flush=True)

    t0 = time.perf_counter()
    if args.concurrent:
        with ThreadPoolExecutor(args.concurrent) as pool:
            list(pool.map(one, range(args.runs)))
    else:
        for k in range(args.runs):
            one(k)
    elapsed = time.perf_counter() - t0
    growth = rss_mib() - start_rss
    # judged from the first sample on: concurrent runs may still add arenas (one per overlap) early on
    late = rss_mib() - (samples[0] if samples else start_rss)
    print(f"RSS growth {growth:+.2f} MiB after warm-up, {late:+.2f} MiB after the first 10%; "
          f"{args.runs / elapsed:.0f} runs/s; results differing from the first "
          f"run: {mismatches}; arenas per plan: "
          f"{[v['arenas'] for v in sess.memory_info().values()]}")
    return 0 if late <= args.max_growth_mib and mismatches == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
