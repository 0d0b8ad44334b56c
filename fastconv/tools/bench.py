"""`fastconv bench`: latency statistics, throughput, the ratio to onnxruntime and a per-layer profile.

Both engines get the same inputs and intra-op thread count and run in this process. onnxruntime's worker
threads stop spinning when a run returns (`session.force_spinning_stop`), so they do not steal the cores
fastconv needs; after warm-up the engines alternate every iteration and the order within a pair flips each
time, so both see the same machine state. The per-layer profile times each fastconv plan step (one ONNX node
or several fused ones, Executor.run_each) and, with a comparison, reads onnxruntime's own per-node times from
its profiler over the same number of runs, interleaved; onnxruntime's nodes are matched to fastconv's steps by
the ONNX node names they carry (onnxruntime names a fused node after one of the nodes it replaces and appends
"_nchwc" to nodes it moved to its blocked layout); the nodes it adds itself (layout reorders) are listed apart.
GFLOP/s count 2 FLOPs per MAC; "% peak" is relative to the FMA peak measured now at the same thread count
(fastconv/tools/peak.py).
"""
from __future__ import annotations

import functools
import json
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field

import numba
import numpy as np

from fastconv.errors import InvalidInputError
from fastconv.onnx import load_model_proto
from fastconv.runtime import InferenceSession
from fastconv.tools._format import dims, shorten, si, table
from fastconv.tools.intermediates import node_name, step_nodes
from fastconv.tools.peak import peak_gflops
from fastconv.tools.profile import profile_session
from fastconv.tools.verify import VerifyError, _first_line, make_inputs, resolve_shapes

DEFAULT_ITERATIONS = 20


class Progress:
    """`fastconv: <what> [#####...] 12/30 runs, 3.2 s` on stderr, in the style of the JIT compile bar
    (fastconv/runtime/jit.py) and under its rule: FASTCONV_PROGRESS=1 forces it on, 0 off, otherwise it is
    drawn only when stderr is a terminal. Redrawn at most ten times a second."""

    def __init__(self, what: str, total: int | None = None, seconds: float | None = None,
                 enabled: bool | None = None):
        self.what, self.total, self.seconds = what, total, seconds
        self.done = 0
        self.t0 = time.perf_counter()
        self.last = 0.0
        if enabled is None:
            env = os.environ.get("FASTCONV_PROGRESS")
            enabled = sys.stderr.isatty() if env is None else env not in ("", "0")
        self.enabled = enabled
        self.drawn = False

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.perf_counter()
        if self.enabled and (now - self.last >= 0.1 or self.done == self.total):
            self.last = now
            self.draw(now - self.t0)

    def draw(self, elapsed: float) -> None:
        width = 24
        frac = self.done / self.total if self.total else min(1.0, elapsed / (self.seconds or 1.0))
        bar = "#" * int(width * frac) + "." * (width - int(width * frac))
        count = f"{self.done}/{self.total}" if self.total else f"{self.done}"
        sys.stderr.write(f"\rfastconv: {self.what} [{bar}] {count} runs, {elapsed:.1f} s ")
        sys.stderr.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            sys.stderr.write("\n")
            sys.stderr.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


@dataclass
class OrtNode:
    """A node of onnxruntime's profile that matches no fastconv step."""
    name: str
    op: str
    seconds: float
    reason: str      # "added by onnxruntime" (layout reorders ...) or "folded by fastconv" (shape computations ...)


@dataclass
class Latency:
    engine: str
    times: np.ndarray          # seconds per run
    batch: int

    def stats(self) -> dict:
        t = self.times * 1e3
        mean = float(np.mean(t))
        return {"mean_ms": mean, "median_ms": float(np.median(t)), "p90_ms": float(np.percentile(t, 90)),
                "p99_ms": float(np.percentile(t, 99)), "min_ms": float(np.min(t)), "runs": int(t.size),
                "throughput_per_s": 1e3 * self.batch / mean}


@dataclass
class BenchReport:
    model: str
    label: str
    inputs: dict[str, tuple]
    batch: int
    num_threads: int
    warmup: int
    latency: dict[str, Latency]
    profile: object = None                 # fastconv.tools.profile.Profile, or None
    peak_gflops: float | None = None
    ort_steps: np.ndarray | None = None    # onnxruntime seconds per fastconv step (median per node, summed)
    ort_other: list = field(default_factory=list)   # OrtNode: onnxruntime's nodes that match no fastconv step

    @property
    def ratio(self) -> float | None:
        """fastconv median / onnxruntime median (< 1: fastconv faster)."""
        if "onnxruntime" not in self.latency:
            return None
        return float(np.median(self.latency["fastconv"].times) / np.median(self.latency["onnxruntime"].times))

    @property
    def ort_total_s(self) -> float | None:
        """Sum of onnxruntime's per-node median times (matched or not)."""
        if self.ort_steps is None:
            return None
        return float(np.sum(self.ort_steps) + sum(n.seconds for n in self.ort_other))

    def layer_rows(self) -> list[dict]:
        p = self.profile
        if p is None:
            return []
        total = p.total_s or 1.0
        ort_total = self.ort_total_s
        rows = []
        for s in p.steps:
            g = s.gflops
            row = {"step": s.step, "nodes": s.nodes, "op": s.op, "shape": list(s.shape), "macs": s.macs,
                   "fastconv_ms": s.median_s * 1e3, "gflops": g,
                   "peak_fraction": g / self.peak_gflops if g and self.peak_gflops else None,
                   "share": s.median_s / total}
            if self.ort_steps is not None:
                t = float(self.ort_steps[s.step])
                row.update(onnxruntime_ms=t * 1e3, onnxruntime_share=t / ort_total if ort_total else None)
            rows.append(row)
        return rows

    def by_op_type(self) -> dict[str, dict]:
        """{op: {"fastconv_ms", "onnxruntime_ms"}} by the op doing the work; onnxruntime's own nodes by their op."""
        out: dict[str, dict] = {}
        if self.profile is None:
            return out
        for s in self.profile.steps:
            d = out.setdefault(s.op_type, {"fastconv_ms": 0.0, "onnxruntime_ms": 0.0})
            d["fastconv_ms"] += s.median_s * 1e3
            if self.ort_steps is not None:
                d["onnxruntime_ms"] += float(self.ort_steps[s.step]) * 1e3
        for n in self.ort_other:
            d = out.setdefault(f"{n.op} ({n.reason})", {"fastconv_ms": 0.0, "onnxruntime_ms": 0.0})
            d["onnxruntime_ms"] += n.seconds * 1e3
        return dict(sorted(out.items(), key=lambda kv: -max(kv[1].values())))

    def format(self, top: int | None = None) -> str:
        compare = "onnxruntime" in self.latency
        runs = self.latency["fastconv"].times.size
        lines = [f"model: {self.model}",
                 "inputs: " + ", ".join(f"{n} [{dims(s)}]" for n, s in self.inputs.items()),
                 f"threads {self.num_threads}, batch {self.batch}, warm-up {self.warmup}, {runs} runs"
                 + (" per engine, interleaved (order flipped every iteration)" if compare else ""), ""]
        rows = [("latency", "mean ms", "median ms", "p90 ms", "p99 ms", "min ms", "throughput")]
        for name, lat in self.latency.items():
            st = lat.stats()
            rows.append((name, *(f"{st[k]:.3f}" for k in ("mean_ms", "median_ms", "p90_ms", "p99_ms", "min_ms")),
                         f"{st['throughput_per_s']:.1f}/s"))
        lines += table(rows, right={1, 2, 3, 4, 5, 6})
        if compare:
            r = self.ratio
            lines.append(f"fastconv / onnxruntime (median): {r:.2f} "
                         f"({'fastconv' if r < 1 else 'onnxruntime'} faster)")
        if self.profile is not None:
            lines += [""] + self._format_layers(top)
        return "\n".join(lines)

    def _format_layers(self, top: int | None) -> list[str]:
        p, compare = self.profile, self.ort_steps is not None
        peak = (f"FMA peak {self.peak_gflops:.0f} GFLOP/s at {self.num_threads} thread"
                f"{'s' if self.num_threads > 1 else ''}") if self.peak_gflops else ""
        lines = [f"per layer: median of {p.iterations} step-by-step runs; {peak}"
                 + ("; onnxruntime: its profiler over as many runs, interleaved" if compare else "")]
        head = ("step", "node", "op", "output", "MACs", "ms", "GFLOP/s", "% peak", "share")
        rows = [head + (("onnxruntime ms", "share") if compare else ())]
        layer_rows = self.layer_rows()
        shown = layer_rows
        if top is not None and top < len(layer_rows):
            key = (lambda r: max(r["fastconv_ms"], r.get("onnxruntime_ms", 0.0)))
            keep = {id(r) for r in sorted(layer_rows, key=key, reverse=True)[:top]}
            shown = [r for r in layer_rows if id(r) in keep]
        for r in shown:
            g, frac = r["gflops"], r["peak_fraction"]
            row = (str(r["step"]), shorten(r["nodes"][0], 28), shorten(r["op"], 44), dims(r["shape"]),
                   si(r["macs"]) if r["macs"] else "", f"{r['fastconv_ms']:.3f}", f"{g:.1f}" if g else "",
                   f"{100 * frac:.1f}%" if frac else "", f"{100 * r['share']:.1f}%")
            if compare:
                share = r["onnxruntime_share"]
                row += (f"{r['onnxruntime_ms']:.3f}" if r["onnxruntime_ms"] else "-",
                        f"{100 * share:.1f}%" if share else "")
            rows.append(row)
        lines += table(rows, right={0, 4, 5, 6, 7, 8, 9, 10})
        if len(shown) < len(layer_rows):
            lines.append(f"({len(layer_rows) - len(shown)} faster steps not shown; --top sets how many are)")
        if self.ort_other:
            groups: dict[tuple, list] = {}
            for n in self.ort_other:
                groups.setdefault((n.op, n.reason), []).append(n.seconds)
            lines.append("onnxruntime nodes matching no step: " + ", ".join(
                f"{op} x{len(t)} {1e3 * sum(t):.3f} ms ({reason})" for (op, reason), t in groups.items()))
        total = f"sum of steps: fastconv {p.total_s * 1e3:.3f} ms (a normal run {p.run_s * 1e3:.3f} ms)"
        if compare:
            total += f", onnxruntime {1e3 * self.ort_total_s:.3f} ms"
        lines += [total, ""]
        rows = [("op", "fastconv ms", "share") + (("onnxruntime ms", "share") if compare else ())]
        ft = sum(d["fastconv_ms"] for d in self.by_op_type().values()) or 1.0
        ot = sum(d["onnxruntime_ms"] for d in self.by_op_type().values()) or 1.0
        for op, d in self.by_op_type().items():
            only_ort = op.endswith(")")
            row = (op, "-" if only_ort else f"{d['fastconv_ms']:.3f}",
                   "" if only_ort else f"{100 * d['fastconv_ms'] / ft:.1f}%")
            if compare:
                row += (f"{d['onnxruntime_ms']:.3f}", f"{100 * d['onnxruntime_ms'] / ot:.1f}%")
            rows.append(row)
        return lines + table(rows, right={1, 2, 3, 4})

    def to_dict(self) -> dict:
        return {"model": self.model, "label": self.label, "inputs": {n: list(s) for n, s in self.inputs.items()},
                "batch": self.batch, "num_threads": self.num_threads, "warmup": self.warmup,
                "interleaved": "onnxruntime" in self.latency,
                "latency": {k: v.stats() for k, v in self.latency.items()},
                "times_ms": {k: [t * 1e3 for t in v.times] for k, v in self.latency.items()},
                "ratio": self.ratio, "peak_gflops": self.peak_gflops,
                "profile_iterations": None if self.profile is None else self.profile.iterations,
                "fastconv_run_ms": None if self.profile is None else self.profile.run_s * 1e3,
                "layers": self.layer_rows(), "by_op_type": self.by_op_type(),
                "onnxruntime_unmatched": [{"name": n.name, "op": n.op, "ms": n.seconds * 1e3, "reason": n.reason}
                                          for n in self.ort_other]}


def benchmark(model, *, inputs: dict | None = None, input_shapes: dict | None = None, batch: int | None = None,
              num_threads: int | None = None, warmup: int = 3, iterations: int | None = None,
              duration: float | None = None, compare: str | None = None, profile_iterations: int = 10,
              seed: int = 0, progress: bool | None = None, name: str | None = None) -> BenchReport:
    """Benchmark `model` (path, bytes or ModelProto): latency over `iterations` runs (or as many as fit in
    `duration` seconds; default DEFAULT_ITERATIONS), with compare="onnxruntime" interleaved with onnxruntime;
    then, unless profile_iterations is 0, the per-layer profile. `batch` sets the first dimension of every
    input (the model's must be symbolic, or equal). progress: the progress bar (None: see Progress). name: how
    the report names the model (default: its path)."""
    if compare not in (None, "onnxruntime"):
        raise InvalidInputError(f"cannot compare with '{compare}'; only 'onnxruntime' is supported")
    if iterations is not None and duration is not None:
        raise InvalidInputError("give iterations or duration, not both")
    if iterations is None and duration is None:
        iterations = DEFAULT_ITERATIONS
    proto, _ = load_model_proto(model)
    path = name or (os.fspath(model) if isinstance(model, (str, os.PathLike)) else None)
    sess = InferenceSession(proto, num_threads=num_threads)
    threads = sess.platform.num_threads
    shapes = _batch_shapes(sess, resolve_shapes({v.name: v for v in sess.graph.inputs},
                                                {**(input_shapes or {}),
                                                 **{n: np.shape(a) for n, a in (inputs or {}).items()}}), batch)
    for input_name, a in (inputs or {}).items():
        if batch is not None and np.shape(a)[:1] != (batch,):
            raise InvalidInputError(f"input '{input_name}' has shape {list(np.shape(a))}: not batch {batch}")
    feeds = make_inputs(sess, inputs, shapes, seed)
    if batch is None:
        first = next(iter(feeds.values()), None)
        batch = int(first.shape[0]) if first is not None and first.ndim else 1
    runners = {"fastconv": lambda: sess.run(None, feeds)}
    ort = ort_prof = None
    if compare:
        ort_proto = _named_copy(proto)
        ort = _ort(ort_proto, threads)
        runners["onnxruntime"] = lambda: ort.run(None, feeds)
    for _ in range(max(1, warmup)):   # at least one: plans a symbolic-shape model, compiles (with its own bar)
        for engine, run in runners.items():
            try:
                run()
            except Exception as e:
                if engine == "fastconv":
                    raise
                raise VerifyError(f"onnxruntime failed to run the model: {_first_line(e)}") from None
    times = {k: [] for k in runners}
    order = list(runners.items())
    label = os.path.basename(path) if path else (proto.graph.name or "model")
    with Progress(f"timing {label}", iterations, duration, progress) as bar:
        t_end = time.perf_counter() + (duration or 0.0)
        k = 0
        while (k < iterations) if iterations is not None else (k == 0 or time.perf_counter() < t_end):
            for engine, run in (order if k % 2 == 0 else order[::-1]):
                t0 = time.perf_counter()
                run()
                times[engine].append(time.perf_counter() - t0)
            k += 1
            bar.advance()
    latency = {k: Latency(k, np.array(v), batch) for k, v in times.items()}
    plan = sess.executor_for_feed(feeds)[0].plan
    report = BenchReport(path or label, plan.label, {n: tuple(a.shape) for n, a in feeds.items()},
                         batch, threads, warmup, latency)
    if profile_iterations:
        between = None
        if compare:
            prefix = os.path.join(tempfile.mkdtemp(prefix="fastconv_ortprof_"), "ort")
            ort_prof = _ort(ort_proto, threads, profile_prefix=prefix)
            for _ in range(max(1, warmup)):
                ort_prof.run(None, feeds)
            between = functools.partial(ort_prof.run, None, feeds)
        with Progress(f"profiling {label}", profile_iterations, None, progress) as bar:
            report.profile = profile_session(sess, feeds, iterations=profile_iterations, warmup=0,
                                             on_iteration=bar.advance, between=between)
        report.peak_gflops = peak_gflops(threads)
        numba.set_num_threads(threads)
        if ort_prof is not None:
            report.ort_steps, report.ort_other = _ort_per_step(ort_prof.end_profiling(), plan, sess.graph,
                                                               profile_iterations)
    return report


def _batch_shapes(sess, shapes: dict, batch: int | None) -> dict:
    if batch is None:
        return shapes
    if batch < 1:
        raise InvalidInputError("batch must be at least 1")
    out = {}
    for v in sess.graph.inputs:
        shape = shapes[v.name]
        if not shape:
            raise InvalidInputError(f"input '{v.name}' is a scalar: it has no batch dimension")
        declared = v.shape[0] if v.shape else None
        if isinstance(declared, int) and declared != batch:
            raise InvalidInputError(f"input '{v.name}' has a fixed batch dimension of {declared} "
                                    f"(shape {list(v.shape)}); batch {batch} needs a model with a symbolic one")
        out[v.name] = (batch, *shape[1:])
    return out


def _named_copy(proto):
    """The model with every unnamed node named after its first output (as fastconv's tools name it), so that
    onnxruntime's profile names every node."""
    import onnx

    if all(n.name for n in proto.graph.node):
        return proto
    copy = onnx.ModelProto()
    copy.CopyFrom(proto)
    for n in copy.graph.node:
        if not n.name:
            n.name = next((o for o in n.output if o), "")
    return copy


def _ort(proto, threads: int, profile_prefix: str | None = None):
    from fastconv.tools.verify import _ort_session

    def configure(so):
        so.add_session_config_entry("session.force_spinning_stop", "1")
        if profile_prefix:
            so.enable_profiling = True
            so.profile_file_prefix = profile_prefix

    return _ort_session(proto, threads, configure)[0]


def ort_node_times(profile_path: str, runs: int) -> list[tuple[str, str, float]]:
    """(node name, op, median seconds over the last `runs` runs) per node of an onnxruntime profile (the JSON
    written by end_profiling, deleted here), in execution order."""
    with open(profile_path) as f:
        events = json.load(f)
    try:
        os.remove(profile_path)
        os.rmdir(os.path.dirname(profile_path))
    except OSError:
        pass
    durations: dict[str, list] = {}
    ops: dict[str, str] = {}
    for e in events:
        name = e.get("name", "")
        if e.get("cat") == "Node" and name.endswith("_kernel_time"):
            node = name[:-len("_kernel_time")]
            durations.setdefault(node, []).append(e["dur"] * 1e-6)
            ops[node] = e.get("args", {}).get("op_name", "")
    return [(n, ops[n], float(np.median(d[-runs:]))) for n, d in durations.items()]


# How onnxruntime renames the nodes it rewrites: "<name>_nchwc" (moved to its blocked layout), "fused <name>"
# (FusedGemm ...), "<name>/<Kind>Fusion/" (LayerNormalization, QuickGelu ...), "<output>_bn_nchwc" (a BatchNorm or
# Mul turned into an NCHWc conv). Its own nodes (reorders, reshapes) are "<Op>" or "<Op>_token_<n>".
_ORT_RENAMES = [re.compile(p) for p in (r"(_nchwc)+$", r"^fused ", r"/\w*Fusion/?$", r"_(bn|mul|add|sub|div)$")]


def _ort_candidates(name: str) -> list[str]:
    out = [name]
    for pattern in _ORT_RENAMES:
        name = pattern.sub("", name)
        out.append(name)
    return out


def _ort_per_step(profile_path: str, plan, graph, runs: int):
    """onnxruntime's node times summed per fastconv step, matched by node name or else by the name of a value
    the step computes (see _ORT_RENAMES); a node onnxruntime fused from several gets one step, the one holding
    the node its name comes from. Returns (seconds per step, [OrtNode] matching no step)."""
    step_of, step_of_value = {}, {}
    for k, st in enumerate(plan.steps):
        for n in step_nodes(st):
            step_of[node_name(n)] = k
            step_of_value.update((o, k) for o in n.outputs if o)
    onnx_nodes = {node_name(n) for n in graph.nodes}
    per_step = np.zeros(len(plan.steps))
    other = []
    for name, op, t in ort_node_times(profile_path, runs):
        names = _ort_candidates(name)
        k = next((m[c] for m in (step_of, step_of_value) for c in names if c in m), None)
        if k is not None:
            per_step[k] += t
        else:
            folded = any(c in onnx_nodes for c in names)
            other.append(OrtNode(name, op, t, "folded by fastconv" if folded else "added by onnxruntime"))
    return per_step, other


def plot(report: BenchReport, path: str, top: int = 30) -> None:
    """A PNG at `path`: the `top` slowest layers (of either engine) as bars per engine, in execution order, and
    the time per op type. Needs matplotlib (pip install 'fastconv[plot]')."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("--plot needs matplotlib: pip install 'fastconv[plot]'") from None
    if report.profile is None:
        raise InvalidInputError("the plot shows the per-layer profile: profile_iterations must be at least 1")
    rows = report.layer_rows()
    compare = report.ort_steps is not None
    key = (lambda r: max(r["fastconv_ms"], r.get("onnxruntime_ms", 0.0)))
    keep = {id(r) for r in sorted(rows, key=key, reverse=True)[:top]}
    rows = [r for r in rows if id(r) in keep]
    ops = report.by_op_type()
    fig = Figure(figsize=(11, 2.5 + 0.26 * len(rows) + 0.26 * len(ops)), layout="constrained")
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(2, 1, height_ratios=[max(len(rows), 1), max(len(ops), 1)])
    colors = {"fastconv": "#1f77b4", "onnxruntime": "#ff7f0e"}
    height = 0.4 if compare else 0.7

    def bars(ax, labels, series, title):
        y = np.arange(len(labels))
        for k, (engine, values) in enumerate(series.items()):
            ax.barh(y + (k - (len(series) - 1) / 2) * height, values, height, label=engine, color=colors[engine])
        ax.set_yticks(y)
        ax.set_yticklabels(labels, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel("ms (median)")
        ax.set_title(title, fontsize=10, loc="left")
        ax.grid(axis="x", alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")

    labels = [f"{r['step']} {shorten(r['nodes'][0], 24)} ({shorten(r['op'].replace('BatchNormalization', 'BN'), 30)})"
              for r in rows]
    series = {"fastconv": [r["fastconv_ms"] for r in rows]}
    if compare:
        series["onnxruntime"] = [r["onnxruntime_ms"] for r in rows]
    shown = f"the {len(rows)} slowest of {len(report.profile.steps)} steps" if len(rows) < len(
        report.profile.steps) else f"all {len(rows)} steps"
    bars(fig.add_subplot(grid[0]), labels, series, f"per layer, in execution order ({shown})")
    series = {"fastconv": [d["fastconv_ms"] for d in ops.values()]}
    if compare:
        series["onnxruntime"] = [d["onnxruntime_ms"] for d in ops.values()]
    bars(fig.add_subplot(grid[1]), list(ops), series, "per op type (fused steps count as their first op)")
    lat = {k: v.stats()["median_ms"] for k, v in report.latency.items()}
    title = (f"{os.path.basename(report.model)}  {', '.join(f'{n} [{dims(s)}]' for n, s in report.inputs.items())}"
             f"  threads {report.num_threads}\nlatency median: "
             + ", ".join(f"{k} {v:.3f} ms" for k, v in lat.items())
             + (f"  (ratio {report.ratio:.2f})" if compare else ""))
    fig.suptitle(title, fontsize=11)
    fig.savefig(path, dpi=110, bbox_inches="tight")
