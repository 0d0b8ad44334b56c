"""Peak memory of a model run, fastconv vs onnxruntime, each engine in a fresh process.

    python bench/memory.py [--models resnet50,squeezenet] [--threads 2] [--runs 5]

For each model and engine a child process imports the engine and numpy, notes its resident set (RSS), loads
the model, runs it --runs times on seeded input and reports the growth of its peak RSS (ru_maxrss) over the
post-import RSS: weights (both engines keep a packed copy), activations, arenas and scratch. fastconv also
reports its planned arena and what allocating each planned output separately would hold
(InferenceSession.memory_info). Results: bench/results/memory-<date>-<time>.md and .json.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

CHILD = r"""
import json, resource, sys
sys.path.insert(0, {repo!r})
import numpy as np
engine, path, shape, threads, runs = {engine!r}, {path!r}, {shape!r}, {threads}, {runs}
if engine == "fastconv":
    import fastconv
else:
    import onnxruntime as ort
def rss_kib():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
base = rss_kib()
if engine == "fastconv":
    sess = fastconv.InferenceSession(path, num_threads=threads)
    name = sess.get_inputs()[0].name
else:
    so = ort.SessionOptions(); so.intra_op_num_threads = threads; so.log_severity_level = 3
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
for _ in range(runs):
    sess.run(None, {{name: x}})
out = {{"peak_growth_mib": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024}}
if engine == "fastconv":
    out["memory_info"] = sess.memory_info()
print("RESULT " + json.dumps(out))
"""


def measure(engine: str, path: str, shape, threads: int, runs: int) -> dict:
    code = CHILD.format(repo=REPO, engine=engine, path=path, shape=tuple(shape), threads=threads, runs=runs)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"{engine} child failed: {proc.stderr[-2000:]}")
    return json.loads(line[len("RESULT "):])


def main(argv=None) -> int:
    from tests.models import zoo

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default=",".join(zoo.CASES))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--out", default=os.path.join(REPO, "bench", "results"))
    args = p.parse_args(argv)
    rows = []
    for name in [m.strip() for m in args.models.split(",") if m.strip()]:
        case = zoo.CASES[name]
        shape = case.shapes[0]
        path = case.path(shape)
        fc = measure("fastconv", path, shape, args.threads, args.runs)
        ort = measure("onnxruntime", path, shape, args.threads, args.runs)
        info = next(iter(fc["memory_info"].values()), {})
        row = {"model": name, "input_shape": list(shape), "fastconv_peak_mib": fc["peak_growth_mib"],
               "onnxruntime_peak_mib": ort["peak_growth_mib"],
               "ratio": fc["peak_growth_mib"] / max(ort["peak_growth_mib"], 1e-9),
               "arena_mib": info.get("arena_bytes", 0) / 2**20, "planned_mib": info.get("planned_bytes", 0) / 2**20}
        rows.append(row)
        print(f"{name:14s} fastconv {row['fastconv_peak_mib']:8.1f} MiB  onnxruntime {row['onnxruntime_peak_mib']:8.1f} "
              f"MiB  ratio {row['ratio']:.2f}  arena {row['arena_mib']:.1f} MiB (unplanned {row['planned_mib']:.1f})",
              flush=True)
    now = dt.datetime.now()
    lines = [f"# Peak memory, fastconv vs onnxruntime ({now:%Y-%m-%d %H:%M})", "",
             f"Peak RSS growth over the post-import RSS of a fresh process per engine and model: load, then "
             f"{args.runs} runs, {args.threads} threads. Arena: fastconv's planned kernel-output arena; unplanned: "
             "the same outputs allocated one by one.", "",
             "| model | input | fastconv MiB | onnxruntime MiB | ratio | fastconv arena MiB | unplanned MiB |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['model']} | {'x'.join(map(str, r['input_shape']))} | {r['fastconv_peak_mib']:.1f} | "
                     f"{r['onnxruntime_peak_mib']:.1f} | {r['ratio']:.2f} | {r['arena_mib']:.1f} | "
                     f"{r['planned_mib']:.1f} |")
    os.makedirs(args.out, exist_ok=True)
    stem = os.path.join(args.out, f"memory-{now:%Y-%m-%d-%H%M%S}")
    with open(stem + ".md", "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(stem + ".json", "w") as f:
        json.dump({"threads": args.threads, "runs": args.runs, "models": rows}, f, indent=1)
    print(f"wrote {stem}.md and {stem}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
