"""Per-node dispatch cost: a chain of cheap nodes on a tiny tensor, fastconv vs onnxruntime, interleaved.

    python bench/dispatch.py [--nodes 200] [--size 16] [--threads 1] [--iterations 300]

The model is x -> Neg -> Abs -> Neg -> Abs ... (--nodes nodes, float32 tensor of --size elements), so the time
of a run is almost all per-node overhead: argument passing, kernel dispatch, output allocation, the executor
loop. Both engines run it interleaved in one process (order flipped every pair); reported: median run time,
time per node (run time / nodes) for each engine and their ratio. The same chain with 1 node gives the fixed
per-run cost, subtracted in the per-node column. Results: bench/results/dispatch-<date>-<time>.md and .json.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

import fastconv  # noqa: E402
from tests.util import helper, make_model  # noqa: E402


def chain_model(nodes: int, size: int):
    ops = ["Neg", "Abs"]
    names = ["x"] + [f"t{i}" for i in range(nodes - 1)] + ["y"]
    graph_nodes = [helper.make_node(ops[i % 2], [names[i]], [names[i + 1]]) for i in range(nodes)]
    return make_model(graph_nodes, [("x", np.float32, [1, size])], [("y", np.float32, [1, size])])


def median_times(nodes: int, size: int, threads: int, iterations: int) -> dict:
    import onnxruntime as ort

    model = chain_model(nodes, size)
    x = np.random.default_rng(0).standard_normal((1, size)).astype(np.float32)
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.log_severity_level = 3
    so.add_session_config_entry("session.force_spinning_stop", "1")
    ort_sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    fc_sess = fastconv.InferenceSession(model, num_threads=threads)
    want = ort_sess.run(None, {"x": x})[0]
    got = fc_sess.run(None, {"x": x})[0]
    np.testing.assert_array_equal(got, want)
    engines = [("fastconv", lambda: fc_sess.run(None, {"x": x})), ("onnxruntime", lambda: ort_sess.run(None, {"x": x}))]
    times = {name: [] for name, _ in engines}
    for _ in range(20):
        for _, fn in engines:
            fn()
    for k in range(iterations):
        for name, fn in (engines if k % 2 == 0 else engines[::-1]):
            s = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - s)
    return {name: float(np.median(ts)) * 1e6 for name, ts in times.items()}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--nodes", type=int, default=200)
    p.add_argument("--size", type=int, default=16, help="elements of the tensor passed along the chain")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--iterations", type=int, default=300)
    p.add_argument("--out", default=os.path.join(REPO, "bench", "results"))
    args = p.parse_args(argv)
    one = median_times(1, args.size, args.threads, args.iterations)
    many = median_times(args.nodes, args.size, args.threads, args.iterations)
    per_node = {k: (many[k] - one[k]) / (args.nodes - 1) for k in many}
    from fastconv.runtime import executor

    res = {"nodes": args.nodes, "size": args.size, "threads": args.threads, "iterations": args.iterations,
           "executor_loop": "cython" if executor.COMPILED else "python",
           "run_us_1_node": one, "run_us": many, "per_node_us": per_node,
           "ratio_per_node": per_node["fastconv"] / per_node["onnxruntime"]}
    now = dt.datetime.now()
    lines = [f"# Per-node dispatch cost ({now:%Y-%m-%d %H:%M})", "",
             f"Chain of {args.nodes} Neg/Abs nodes on a 1x{args.size} float32 tensor, {args.threads} thread(s), "
             f"median of {args.iterations} interleaved runs; fastconv executor loop: {res['executor_loop']}.", "",
             "| engine | run, 1 node (us) | run, chain (us) | per node (us) |", "|---|---|---|---|"]
    for k in ("fastconv", "onnxruntime"):
        lines.append(f"| {k} | {one[k]:.1f} | {many[k]:.1f} | {per_node[k]:.2f} |")
    lines += ["", f"ratio fastconv/onnxruntime per node: {res['ratio_per_node']:.2f}", ""]
    os.makedirs(args.out, exist_ok=True)
    stem = os.path.join(args.out, f"dispatch-{now:%Y-%m-%d-%H%M%S}")
    with open(stem + ".md", "w") as f:
        f.write("\n".join(lines))
    with open(stem + ".json", "w") as f:
        json.dump(res, f, indent=1)
    print("\n".join(lines))
    print(f"wrote {stem}.md and {stem}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
