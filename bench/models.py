"""Model-level benchmark: fastconv and onnxruntime side by side, in one process, interleaved.

    python bench/models.py [--models resnet50,squeezenet] [--iterations 30] [--threads 2] [--batch 1|8]

For each model (the twelve real models and the embedded ones of tests/models/zoo.py) both engines get the
same seeded input and the same intra-op thread count. onnxruntime runs with the session config
`session.force_spinning_stop`=1 so its worker threads stop spinning when a run returns and do not steal
the cores fastconv needs (see /work/shared/PERF_NOTES.md). After warm-up the engines alternate every
iteration, and the order within a pair flips each time, so both see the same machine state.
Reported per model: max abs diff and relative L2 error of fastconv vs onnxruntime (worst output),
median latency of each engine, ratio fastconv/onnxruntime (< 1: fastconv faster), session load time.
Results go to bench/results/models-<date>-<time>.md and .json with the machine description.
Run it on an otherwise idle machine: another process on a shared core changes 2-thread timings 3-20x.
"""
from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import sys
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

import fastconv  # noqa: E402
from fastconv.platform import Platform  # noqa: E402
from tests.models import zoo  # noqa: E402
from tests.models.check import reference_outputs  # noqa: E402


def machine_description(threads: int) -> dict:
    import numba
    import onnx
    import onnxruntime

    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        cpu = platform.processor() or cpu
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    plat = Platform.detect(threads)
    return {
        "cpu": cpu,
        "logical_cores": os.cpu_count(),
        "usable_cores": usable,
        "machine": platform.machine(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "onnx": onnx.__version__,
        "onnxruntime": onnxruntime.__version__,
        "fastconv": fastconv.__version__,
        "fastconv_isa": plat.isa,
        "fastconv_simd_width": plat.simd_width,
        "threads": threads,
        "env": {k: os.environ[k] for k in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY", "OPENBLAS_NUM_THREADS",
                                           "MKL_NUM_THREADS", "NUMBA_THREADING_LAYER", "NUMBA_NUM_THREADS")
                if k in os.environ},
        "ort_session_config": {"session.force_spinning_stop": "1", "intra_op_num_threads": threads,
                               "inter_op_num_threads": 1},
    }


def bench_model(name: str, shape: tuple, iterations: int, warmup: int, threads: int, seed: int,
                interleave: bool = True) -> dict:
    case = zoo.CASES[name]
    path = case.path(shape)                       # builds and caches a light model on first use
    gc.collect()
    t0 = time.perf_counter()
    fc = fastconv.InferenceSession(path, num_threads=threads)
    t1 = time.perf_counter()
    ort = zoo.ort_session(path, threads, spin_stop=True)
    t2 = time.perf_counter()
    feeds = case.feeds(fc.get_inputs()[0].name, shape, seed)
    t3 = time.perf_counter()
    got = fc.run(None, feeds)                     # plans a symbolic-shape model; JIT warm-up
    fc_first = time.perf_counter() - t3
    expected = reference_outputs(case, path, feeds) if case.exact_sigmoid else ort.run(None, feeds)

    run_fc = lambda: fc.run(None, feeds)         # noqa: E731
    run_ort = lambda: ort.run(None, feeds)       # noqa: E731
    for _ in range(warmup):
        run_fc()
        run_ort()
    times = {"fastconv": [], "onnxruntime": []}
    order = (("fastconv", run_fc), ("onnxruntime", run_ort))
    if interleave:      # pairs, the order flipped every iteration
        schedule = [step for k in range(iterations) for step in (order if k % 2 == 0 else order[::-1])]
    else:               # all runs of one engine, then all of the other
        schedule = [order[0]] * iterations + [order[1]] * iterations
    gc.disable()
    try:
        for engine, fn in schedule:
            s = time.perf_counter()
            fn()
            times[engine].append(time.perf_counter() - s)
    finally:
        gc.enable()

    max_abs, rel = 0.0, 0.0
    for g, e in zip(got, expected):
        if g.shape != e.shape:
            max_abs, rel = float("nan"), float("nan")
            break
        if g.size:
            max_abs = max(max_abs, float(np.abs(g.astype(np.float64) - e.astype(np.float64)).max()))
            rel = max(rel, zoo.rel_l2(g, e))
    # the layout of the plan the runs used (the last one made: symbolic-shape models plan on first run)
    layout = list(fc.layout_info().values())[-1]
    fc_ms = float(np.median(times["fastconv"]) * 1e3)
    ort_ms = float(np.median(times["onnxruntime"]) * 1e3)
    return {
        "model": name, "family": case.family, "input_shape": list(shape),
        "max_abs_diff": max_abs, "rel_l2": rel, "finite": bool(all(np.isfinite(g).all() for g in got)),
        "reference": "exact sigmoid of onnxruntime's logits" if case.exact_sigmoid else "onnxruntime",
        "fastconv_ms": fc_ms, "onnxruntime_ms": ort_ms, "ratio": fc_ms / ort_ms,
        "fastconv_min_ms": float(np.min(times["fastconv"]) * 1e3),
        "onnxruntime_min_ms": float(np.min(times["onnxruntime"]) * 1e3),
        "blocked_steps": layout["blocked_steps"], "plain_steps": layout["plain_steps"],
        "reorders": layout["reorders"],
        "fastconv_load_s": t1 - t0, "onnxruntime_load_s": t2 - t1, "fastconv_first_run_s": fc_first,
        "iterations": iterations, "warmup": warmup, "interleaved": interleave,
        "fastconv_times_ms": [t * 1e3 for t in times["fastconv"]],
        "onnxruntime_times_ms": [t * 1e3 for t in times["onnxruntime"]],
    }


def markdown(results: list[dict], machine: dict, started: str, interleaved: bool = True) -> str:
    lines = [f"# fastconv vs onnxruntime, model level ({started})", "",
             f"- CPU: {machine['cpu']} ({machine['logical_cores']} logical cores, "
             f"{machine['usable_cores']} usable), {machine['os']}",
             f"- python {machine['python']}, numpy {machine['numpy']}, numba {machine['numba']}, "
             f"onnx {machine['onnx']}, onnxruntime {machine['onnxruntime']}, fastconv {machine['fastconv']} "
             f"(isa {machine['fastconv_isa']}, block {machine['fastconv_simd_width']})",
             f"- threads: {machine['threads']} for both engines; onnxruntime session config "
             "`session.force_spinning_stop`=1; " + ("engines interleaved per iteration, order flipped each time"
                                                    if interleaved else "engines timed in blocks (--blocked)"),
             "- ratio = fastconv median / onnxruntime median (< 1: fastconv is faster); errors: worst output", "",
             "| model | input | max abs diff | rel L2 | fastconv ms | onnxruntime ms | ratio | fastconv load s | "
             "steps NCHWc / NCHW / reorders |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['model']} | {'x'.join(map(str, r['input_shape']))} | error: {r['error']} ||||||")
            continue
        note = "" if r["reference"] == "onnxruntime" else " *"
        lines.append(f"| {r['model']} | {'x'.join(map(str, r['input_shape']))} | {r['max_abs_diff']:.3g} | "
                     f"{r['rel_l2']:.3g}{note} | {r['fastconv_ms']:.2f} | {r['onnxruntime_ms']:.2f} | "
                     f"{r['ratio']:.2f} | {r['fastconv_load_s']:.2f} | "
                     f"{r['blocked_steps']} / {r['plain_steps']} / {r['reorders']} |")
    if any(r.get("reference", "onnxruntime") != "onnxruntime" for r in results):
        lines += ["", "\\* reference is float64 sigmoid of onnxruntime's logits: onnxruntime's Sigmoid is off by "
                      "1e-3 relative and more for outputs below 1e-3 (tests/models/zoo.py, exact_sigmoid)"]
    ok = [r for r in results if "ratio" in r]
    if ok:
        geo = float(np.exp(np.mean(np.log([r["ratio"] for r in ok]))))
        lines += ["", f"Geometric mean ratio over {len(ok)} models: {geo:.2f}"]
    return "\n".join(lines) + "\n"


def _no_nan(x):
    """NaN (e.g. the diff of mismatched shapes) as JSON null."""
    if isinstance(x, float) and x != x:
        return None
    if isinstance(x, dict):
        return {k: _no_nan(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_no_nan(v) for v in x]
    return x


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default=None,
                   help=f"comma-separated subset (default: all): {','.join(zoo.CASES)}")
    p.add_argument("--iterations", "-n", type=int, default=30, help="timed runs per engine (default 30)")
    p.add_argument("--warmup", type=int, default=3, help="untimed runs per engine first (default 3)")
    p.add_argument("--threads", "-t", type=int, default=2, help="intra-op threads of both engines (default 2)")
    p.add_argument("--batch", type=int, default=1,
                   help="batch size: each model's first test shape with this batch (light models are re-exported "
                        "with it; default 1)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--blocked", action="store_true",
                   help="time all fastconv runs, then all onnxruntime runs, instead of interleaving: shows "
                        "what each engine's idle worker threads cost the other")
    p.add_argument("--out", default=os.path.join(REPO, "bench", "results"),
                   help="folder for the .md and .json results (default bench/results)")
    args = p.parse_args(argv)
    names = list(zoo.CASES) if not args.models else [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [n for n in names if n not in zoo.CASES]
    if unknown:
        p.error(f"unknown model(s) {unknown}; choose from {', '.join(zoo.CASES)}")
    if args.iterations < 1 or args.threads < 1 or args.warmup < 0:
        p.error("--iterations and --threads must be >= 1, --warmup >= 0")

    now = dt.datetime.now()
    started = now.strftime("%Y-%m-%d %H:%M")
    machine = machine_description(args.threads)
    results = []
    for name in names:
        shape = (args.batch, *zoo.CASES[name].shapes[0][1:])
        try:
            r = bench_model(name, shape, args.iterations, args.warmup, args.threads, args.seed,
                            interleave=not args.blocked)
            print(f"{name:14s} {'x'.join(map(str, shape)):14s} rel L2 {r['rel_l2']:.2g}  fastconv "
                  f"{r['fastconv_ms']:9.2f} ms  onnxruntime {r['onnxruntime_ms']:9.2f} ms  ratio {r['ratio']:.2f}",
                  flush=True)
        except Exception as e:  # noqa: BLE001 - one failing model must not lose the others' results
            msg = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
            r = {"model": name, "input_shape": list(shape), "error": msg}
            print(f"{name:14s} error: {msg}", file=sys.stderr, flush=True)
        results.append(r)

    try:
        import numba
        machine["numba_threading_layer"] = numba.threading_layer()
    except ValueError:                      # no parallel Numba region ran
        machine["numba_threading_layer"] = None
    os.makedirs(args.out, exist_ok=True)
    stem = os.path.join(args.out, f"models-{now.strftime('%Y-%m-%d-%H%M%S')}")
    with open(stem + ".json", "w") as f:
        json.dump(_no_nan({"started": started, "machine": machine, "args": vars(args), "results": results}), f,
                  indent=1)
    with open(stem + ".md", "w") as f:
        f.write(markdown(results, machine, started, not args.blocked))
    print(f"wrote {stem}.md and {stem}.json")
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
