"""Per-node timings of a session: `InferenceSession.profile(...)`.

Each profiled run goes through the plan step by step (Executor.run_each), timing every step with the arena and
threads of a normal run; a step is one ONNX node or several fused ones. A normal run is timed between the
profiled ones, so the report shows what the step-by-step loop and its clock reads add.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numba
import numpy as np

from fastconv.tools._format import shorten, si, table
from fastconv.tools.intermediates import node_name, step_nodes


@dataclass
class StepTiming:
    step: int
    nodes: list[str]          # the ONNX nodes this step computes (several when fused)
    op: str                   # their op types joined by '+'
    shape: tuple              # first output's shape
    macs: int
    times: np.ndarray         # seconds, one per profiled run

    @property
    def name(self) -> str:
        return self.nodes[0]

    @property
    def op_type(self) -> str:
        """The op that does the work (the first of a fused chain)."""
        return self.op.split("+")[0]

    @property
    def median_s(self) -> float:
        return float(np.median(self.times))

    @property
    def gflops(self) -> float | None:
        t = self.median_s
        return 2.0 * self.macs / t / 1e9 if self.macs and t > 0 else None

    def to_dict(self) -> dict:
        return {"step": self.step, "nodes": self.nodes, "op": self.op, "shape": list(self.shape), "macs": self.macs,
                "median_ms": self.median_s * 1e3, "mean_ms": float(np.mean(self.times)) * 1e3,
                "min_ms": float(np.min(self.times)) * 1e3, "gflops": self.gflops}


@dataclass
class Profile:
    label: str
    num_threads: int
    iterations: int
    steps: list[StepTiming]
    run_times: np.ndarray     # seconds of the normal runs timed between the profiled ones

    @property
    def total_s(self) -> float:
        """Sum of the steps' median times."""
        return float(sum(s.median_s for s in self.steps))

    @property
    def run_s(self) -> float:
        return float(np.median(self.run_times))

    def by_op_type(self) -> dict[str, float]:
        """Median seconds per op type (of the op doing the work), largest first."""
        out: dict[str, float] = {}
        for s in self.steps:
            out[s.op_type] = out.get(s.op_type, 0.0) + s.median_s
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))

    def format(self, top: int | None = None) -> str:
        total = self.total_s or 1.0
        rows = [("step", "node", "op", "output", "MACs", "ms", "GFLOP/s", "share")]
        for s in _top(self.steps, top):
            g = s.gflops
            rows.append((str(s.step), shorten(s.name, 32), s.op, "x".join(map(str, s.shape)),
                         si(s.macs) if s.macs else "", f"{s.median_s * 1e3:.3f}", f"{g:.1f}" if g else "",
                         f"{100 * s.median_s / total:.1f}%"))
        lines = [f"profile: {self.label}, {self.num_threads} threads, median of {self.iterations} step-by-step runs"]
        lines += table(rows, right={0, 4, 5, 6, 7})
        if top is not None and top < len(self.steps):
            lines.append(f"({len(self.steps) - top} faster steps not shown)")
        lines.append(f"sum of steps: {self.total_s * 1e3:.3f} ms; normal run: {self.run_s * 1e3:.3f} ms (median)")
        lines.append("by op: " + ", ".join(f"{op} {t * 1e3:.3f} ms ({100 * t / total:.0f}%)"
                                           for op, t in self.by_op_type().items()))
        return "\n".join(lines)

    __str__ = format

    def to_dict(self) -> dict:
        return {"model": self.label, "num_threads": self.num_threads, "iterations": self.iterations,
                "total_ms": self.total_s * 1e3, "run_ms": self.run_s * 1e3,
                "by_op_type_ms": {k: v * 1e3 for k, v in self.by_op_type().items()},
                "steps": [s.to_dict() for s in self.steps]}


def profile_session(sess, input_feed: dict | None = None, iterations: int = 10, warmup: int = 1,
                    on_iteration=None, between=None) -> Profile:
    """Profile `sess` on `input_feed` (random inputs when None); see InferenceSession.profile. on_iteration()
    is called after each profiled run (progress), between() after each too (e.g. another engine's run)."""
    from fastconv.tools.summary import summarize_plan
    from fastconv.tools.verify import make_inputs

    if iterations < 1:
        raise ValueError("iterations must be at least 1")
    if input_feed is None:
        input_feed = make_inputs(sess, None, None, seed=0)
    executor, feeds = sess.executor_for_feed(input_feed)
    plan = executor.plan
    numba.set_num_threads(sess.platform.num_threads)
    for _ in range(max(1, warmup)):       # at least one: the plan's first run compiles its kernels
        executor.run(feeds, [])
    times = np.zeros((iterations, len(plan.steps)))
    run_times = np.zeros(iterations)
    for i in range(iterations):
        executor.run_each(feeds, times=times[i])
        t0 = time.perf_counter()
        executor.run(feeds, [])
        run_times[i] = time.perf_counter() - t0
        if between is not None:
            between()
        if on_iteration is not None:
            on_iteration()
    macs = summarize_plan(sess.graph, plan).step_macs
    steps = []
    for k, st in enumerate(plan.steps):
        nodes = step_nodes(st) or [st.node]     # a layout reorder computes no ONNX node: named by itself
        out = next((o for o in st.node.outputs if o), "")
        steps.append(StepTiming(k, [node_name(n) for n in nodes], "+".join(n.op_type for n in nodes),
                                tuple(plan.infos[out].logical_shape) if out else (), macs[k], times[:, k].copy()))
    return Profile(plan.label, sess.platform.num_threads, iterations, steps, run_times)


def _top(steps, top):
    if top is None or top >= len(steps):
        return steps
    keep = {id(s) for s in sorted(steps, key=lambda s: -s.median_s)[:top]}
    return [s for s in steps if id(s) in keep]
