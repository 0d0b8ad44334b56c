"""Long fuzz run: python -m tests.fuzz.run --examples 100000 [--out fuzz-out] [--hang-seconds 60]

Runs the oracle of tests/fuzz/harness.py on generated models (the Conv/Pool/Gemm attribute spaces and mutated
model bytes, in turn) in a child process. Each model is written to OUT/current.onnx before it runs, so that a
crash (the child dies) or a hang (faulthandler ends the child after --hang-seconds) leaves the culprit behind:
the parent saves it as OUT/crash-K.onnx and starts a new child for the remaining examples. Findings (an
exception other than FastconvError, or a result differing from onnxruntime) go to OUT/finding-K.onnx with the
message in OUT/finding-K.txt. Prints counts per outcome at the end; exits 1 if anything was found.
"""
from __future__ import annotations

import argparse
import collections
import faulthandler
import json
import os
import subprocess
import sys
import time

SPACES = ["conv", "pool", "gemm", "bytes", "bytes"]


def worker(examples: int, out: str, hang_seconds: float, seed: int) -> None:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as seeded
    from hypothesis import strategies as st

    from .harness import ATTRIBUTE_SPACES, Finding, check, mutated_model

    counts = collections.Counter()
    done = 0
    current = os.path.join(out, "current.onnx")

    @settings(max_examples=examples, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def one(data):
        nonlocal done
        space = data.draw(st.sampled_from(SPACES))
        model = mutated_model(data.draw) if space == "bytes" else ATTRIBUTE_SPACES[space](data.draw)
        blob = model if isinstance(model, bytes) else model.SerializeToString()
        with open(current, "wb") as f:
            f.write(blob)
        faulthandler.dump_traceback_later(hang_seconds, exit=True)
        try:
            outcome = check(blob)
        except Finding as e:
            outcome = "FINDING"
            k = len([n for n in os.listdir(out) if n.startswith("finding-") and n.endswith(".onnx")])
            with open(os.path.join(out, f"finding-{k}.onnx"), "wb") as f:
                f.write(blob)
            with open(os.path.join(out, f"finding-{k}.txt"), "w") as f:
                f.write(f"{space}: {e}\n")
        finally:
            faulthandler.cancel_dump_traceback_later()
        counts[f"{space}: {outcome.split(':')[0]}"] += 1
        done += 1
        if done % 200 == 0:
            _save(out, counts)

    seeded(seed)(one)()
    _save(out, counts)


def _save(out, counts):
    with open(os.path.join(out, f"stats-{os.getpid()}.json"), "w") as f:
        json.dump(dict(counts), f)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--examples", type=int, default=100_000)
    p.add_argument("--out", default="fuzz-out")
    p.add_argument("--hang-seconds", type=float, default=60.0)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    seed = args.seed if args.seed is not None else int(time.time())
    if args.worker:
        worker(args.examples, args.out, args.hang_seconds, seed)
        return 0

    total, crashes, restarts = collections.Counter(), 0, 0
    remaining, t0 = args.examples, time.time()
    while remaining > 0:
        cmd = [sys.executable, "-m", "tests.fuzz.run", "--worker", "--examples", str(remaining), "--out", args.out,
               "--hang-seconds", str(args.hang_seconds), "--seed", str(seed + restarts)]
        child = subprocess.run(cmd, check=False)
        stats = _collect(args.out)
        ran = sum(stats.values())
        total.update(stats)
        remaining -= max(ran, 1)
        if child.returncode != 0:  # died: segfault, abort, or faulthandler's hang exit
            crashes += 1
            os.replace(os.path.join(args.out, "current.onnx"), os.path.join(args.out, f"crash-{crashes}.onnx"))
            print(f"child exited with {child.returncode}: input saved as crash-{crashes}.onnx", flush=True)
            total["CRASH"] += 1
        restarts += 1
    elapsed = time.time() - t0
    print(f"{sum(total.values())} inputs in {elapsed:.0f} s (seed {seed}):")
    for key, n in sorted(total.items()):
        print(f"  {key:40} {n}")
    return 1 if crashes or any(k.endswith("FINDING") for k in total) else 0


def _collect(out) -> collections.Counter:
    """Sum and remove the stats files children left."""
    c = collections.Counter()
    for name in os.listdir(out):
        if name.startswith("stats-") and name.endswith(".json"):
            path = os.path.join(out, name)
            with open(path) as f:
                c.update(json.load(f))
            os.remove(path)
    return c


if __name__ == "__main__":
    sys.exit(main())
