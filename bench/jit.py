"""JIT cost: session creation with a cold Numba cache (first use on a machine) and with a warm one (a later
process), each in a fresh process.

    python bench/jit.py [--models resnet50,ppocr_det,...] [--threads 2]

For each model: a new empty NUMBA_CACHE_DIR, then process 1 creates a session (compiling every kernel the
model needs, the progress bar on stderr) and process 2 creates it again (loading the cache). Session creation
includes loading the ONNX file, planning, packing weights and the warm-up run (fastconv/runtime/jit.py);
the time of importing fastconv is reported separately. A last row does all models in one cold process: the
compile cost of every kernel family together. Results: bench/results/jit-<date>-<time>.md and .json.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)
DEFAULT_MODELS = ("resnet50", "squeezenet", "shufflenet", "ppocr_det", "ppocr_rec", "resnet_small")

CHILD = r"""
import json, os, sys, time
t0 = time.perf_counter()
import fastconv
t_import = time.perf_counter() - t0
import numpy as np
out = {{"import_s": t_import, "models": {{}}}}
for name, path, shape in {specs!r}:
    t1 = time.perf_counter()
    sess = fastconv.InferenceSession(path, num_threads={threads})
    t2 = time.perf_counter()
    sess.run(None, {{sess.get_inputs()[0].name: np.zeros(shape, np.float32)}})
    out["models"][name] = [t2 - t1, time.perf_counter() - t2]
print("RESULT " + json.dumps(out))
"""


def _spec(name: str):
    """(name, .onnx path, first input shape) of a test-suite model."""
    from tests.models import zoo
    if name in zoo.LIGHT_FILES:
        path = zoo.light_model_path(name)
    elif name in zoo.PPOCR_FILES:
        path = os.path.join(zoo.ppocr_dir(), zoo.PPOCR_FILES[name])
    else:
        path = os.path.join(zoo.EMBEDDED_DIR, f"{name}.onnx")
    return name, path, list(zoo.CASES[name].shapes[0])


def _child(models, threads, cache_dir) -> dict:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir, FASTCONV_PROGRESS="1")
    code = CHILD.format(specs=[_spec(m) for m in models], threads=threads)
    p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=REPO)
    line = next((ln for ln in p.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if p.returncode or line is None:
        raise RuntimeError(f"child failed ({p.returncode}): {p.stderr[-2000:]}")
    return json.loads(line[len("RESULT "):])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=",".join(DEFAULT_MODELS))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=os.path.join(REPO, "bench", "results"))
    args = ap.parse_args(argv)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    for m in models:  # build the rebuilt zoo models first, outside the timings
        _spec(m)
    rows = []
    for m in models:
        with tempfile.TemporaryDirectory(prefix="fastconv_jit_") as cache:
            cold = _child([m], args.threads, cache)
            warm = _child([m], args.threads, cache)
        (cc, cr), (wc, wr) = cold["models"][m], warm["models"][m]
        rows.append({"model": m, "cold_create_s": cc, "cold_first_run_s": cr, "warm_create_s": wc,
                     "warm_first_run_s": wr, "import_cold_s": cold["import_s"], "import_warm_s": warm["import_s"]})
        print(f"{m:14s} cold: create {cc:6.2f} s + first run {cr:6.2f} s   warm: create {wc:5.2f} s + first run "
              f"{wr:5.2f} s   (import {cold['import_s']:.2f} / {warm['import_s']:.2f} s)", flush=True)
    with tempfile.TemporaryDirectory(prefix="fastconv_jit_") as cache:
        allc = _child(models, args.threads, cache)
        allw = _child(models, args.threads, cache)
    total_cold = allc["import_s"] + sum(sum(v) for v in allc["models"].values())
    total_warm = allw["import_s"] + sum(sum(v) for v in allw["models"].values())
    print(f"all models in one process: cold {total_cold:.1f} s, warm {total_warm:.1f} s")
    import importlib.util
    spec = importlib.util.spec_from_file_location("_bench_models", os.path.join(REPO, "bench", "models.py"))
    bench_models = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_models)
    machine_description = bench_models.machine_description
    now = dt.datetime.now()
    stem = os.path.join(args.out, f"jit-{now.strftime('%Y-%m-%d-%H%M%S')}")
    os.makedirs(args.out, exist_ok=True)
    machine = machine_description(args.threads)
    with open(stem + ".json", "w") as f:
        json.dump({"started": now.isoformat(), "machine": machine, "threads": args.threads, "rows": rows,
                   "all_models": {"cold_s": total_cold, "warm_s": total_warm, "cold": allc, "warm": allw}}, f,
                  indent=1)
    with open(stem + ".md", "w") as f:
        f.write(f"# JIT cost: session creation, cold vs warm Numba cache ({now:%Y-%m-%d %H:%M})\n\n")
        f.write(f"Machine: {machine.get('cpu')}, {args.threads} threads. Cold and warm are two fresh processes "
                "sharing one new Numba cache folder. Session creation = load + plan + pack weights + warm-up run "
                "(models with fixed input shapes); the first run compiles for models with dynamic shapes "
                "(PP-OCR det/rec), which are planned then.\n\n")
        f.write("| model | cold: create (s) | cold: first run (s) | warm: create (s) | warm: first run (s) | "
                "import fastconv cold / warm (s) |\n|---|---|---|---|---|---|\n")
        for r in rows:
            f.write(f"| {r['model']} | {r['cold_create_s']:.2f} | {r['cold_first_run_s']:.2f} | "
                    f"{r['warm_create_s']:.2f} | {r['warm_first_run_s']:.2f} | {r['import_cold_s']:.2f} / "
                    f"{r['import_warm_s']:.2f} |\n")
        f.write(f"\nAll {len(models)} models in one process (every kernel family): cold {total_cold:.1f} s, "
                f"warm {total_warm:.1f} s (import included).\n")
    print(f"wrote {stem}.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
