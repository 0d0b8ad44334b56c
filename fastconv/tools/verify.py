"""Run a model in fastconv and in onnxruntime on the same inputs and compare every output.

Inputs not given are random: float tensors standard normal, integer tensors small non-negative integers
(0-3, safe as indices), bool tensors fair coin flips. Symbolic dimensions take their value from
`input_shapes` ({input name: shape}); otherwise a dimension named like a batch (or the first dimension) is 1,
any other symbolic dimension is `DEFAULT_DIM`. Dimensions sharing a name share a value.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import onnx

from fastconv.errors import InvalidInputError
from fastconv.onnx import load_model_proto
from fastconv.runtime import InferenceSession

# Value of a symbolic dimension that is neither given nor batch-like (e.g. a free image height/width).
DEFAULT_DIM = 224
_BATCH_NAMES = {"n", "b", "bs", "batch", "batch_size", "batchsize", "batch_dim", "nbatch", "num_batches"}


class VerifyError(RuntimeError):
    """onnxruntime is missing or could not run the model, so nothing could be compared."""


@dataclass
class OutputComparison:
    name: str
    shape: tuple          # fastconv's output shape
    dtype: str            # fastconv's output dtype
    ort_shape: tuple
    ort_dtype: str
    max_abs_diff: float   # nan when shapes differ
    rel_l2: float         # ||fastconv - ort|| / ||ort||  (absolute L2 when ||ort|| == 0)
    passed: bool
    note: str = ""        # why it failed when shapes/dtypes differ

    def to_dict(self) -> dict:
        return {"name": self.name, "shape": list(self.shape), "dtype": self.dtype,
                "ort_shape": list(self.ort_shape), "ort_dtype": self.ort_dtype,
                "max_abs_diff": _json_float(self.max_abs_diff), "rel_l2": _json_float(self.rel_l2),
                "passed": self.passed, "note": self.note}


@dataclass
class VerifyReport:
    outputs: list[OutputComparison]
    rtol: float
    atol: float
    num_threads: int
    inputs: dict[str, np.ndarray] = field(repr=False)
    ort_ir_version: int | None = None   # set when the model had to be re-labelled for onnxruntime

    @property
    def ok(self) -> bool:
        return all(o.passed for o in self.outputs)

    def __bool__(self) -> bool:
        return self.ok

    def format(self) -> str:
        rows = [("output", "shape", "dtype", "max abs diff", "rel L2", "allclose")]
        for o in self.outputs:
            rows.append((o.name, "x".join(map(str, o.shape)) or "scalar", o.dtype, f"{o.max_abs_diff:.3g}",
                         f"{o.rel_l2:.3g}", "ok" if o.passed else "FAIL"))
        widths = [max(len(r[k]) for r in rows) for k in range(len(rows[0]))]
        lines = ["inputs: " + ", ".join(f"{n} {a.dtype}[{'x'.join(map(str, a.shape))}]"
                                        for n, a in self.inputs.items())]
        lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
        lines += [f"  {o.name}: {o.note}" for o in self.outputs if o.note]
        if self.ort_ir_version is not None:
            lines.append(f"note: onnxruntime ran a copy with ir_version={self.ort_ir_version}")
        lines.append(f"{'OK' if self.ok else 'MISMATCH'}: {sum(o.passed for o in self.outputs)}/"
                     f"{len(self.outputs)} outputs match onnxruntime (rtol={self.rtol:g}, atol={self.atol:g}, "
                     f"threads={self.num_threads})")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"ok": self.ok, "rtol": self.rtol, "atol": self.atol, "num_threads": self.num_threads,
                "inputs": {n: {"shape": list(a.shape), "dtype": str(a.dtype)} for n, a in self.inputs.items()},
                "outputs": [o.to_dict() for o in self.outputs], "ort_ir_version": self.ort_ir_version}


def _json_float(x: float):
    return None if np.isnan(x) else float(x)


def compare_with_onnxruntime(model, inputs: dict | None = None, rtol: float = 1e-4, atol: float = 1e-5,
                             num_threads: int | None = None, seed: int = 0,
                             input_shapes: dict | None = None) -> VerifyReport:
    """Compare fastconv with onnxruntime (CPUExecutionProvider, same thread count) on `model`.

    `model`: path, bytes or onnx.ModelProto. `inputs`: {name: array} for some or all graph inputs; the rest
    are random (see the module docstring). Returns a VerifyReport; `report.ok` tells whether every output
    satisfies |fastconv - ort| <= atol + rtol * |ort| elementwise (NaNs must coincide).
    """
    proto, _ = load_model_proto(model)
    sess = InferenceSession(proto, num_threads=num_threads)
    feeds = make_inputs(sess, inputs, input_shapes, seed)
    threads = sess.platform.num_threads
    ort_sess, ort_ir = _ort_session(proto, threads)
    names = [o.name for o in sess.get_outputs()]
    got = sess.run(names, feeds)
    try:
        expected = ort_sess.run(names, feeds)
    except Exception as e:
        raise VerifyError(f"onnxruntime failed to run the model: {_first_line(e)}") from None
    outputs = [compare_arrays(n, g, e, rtol, atol) for n, g, e in zip(names, got, expected)]
    return VerifyReport(outputs, rtol, atol, threads, feeds, ort_ir)


def make_inputs(sess: InferenceSession, given: dict | None, input_shapes: dict | None, seed: int) -> dict:
    """The feeds for `sess`: `given` arrays as they are, random ones for every other input."""
    given = dict(given or {})
    input_shapes = {k: tuple(int(d) for d in v) for k, v in (input_shapes or {}).items()}
    specs = {v.name: v for v in sess.graph.inputs}
    unknown = [n for n in list(given) + list(input_shapes) if n not in specs]
    if unknown:
        raise InvalidInputError(f"unknown input name(s) {sorted(set(unknown))}; the model's inputs are "
                                f"{list(specs)}")
    shapes = resolve_shapes(specs, {**input_shapes, **{n: np.shape(a) for n, a in given.items()}})
    rng = np.random.default_rng(seed)
    feeds = {}
    for name, spec in specs.items():
        if name in given:
            feeds[name] = np.asarray(given[name])
        else:
            feeds[name] = random_array(rng, shapes[name], spec.dtype)
    return feeds


def resolve_shapes(specs: dict, known: dict[str, tuple]) -> dict[str, tuple]:
    """Concrete shapes for every input: `known` ones as given, symbolic dims bound by name across inputs."""
    bound: dict[str, int] = {}
    for name, shape in known.items():
        decl = specs[name].shape
        if decl is not None and len(decl) != len(shape):
            raise InvalidInputError(f"input '{name}': shape {list(shape)} has rank {len(shape)}; the model "
                                    f"declares rank {len(decl)} ({list(decl)})")
        for d, v in zip(decl or (), shape):
            if isinstance(d, str):
                bound.setdefault(d, v)
    out = {}
    for name, spec in specs.items():
        if name in known:
            out[name] = tuple(known[name])
            continue
        if spec.shape is None:
            raise InvalidInputError(f"input '{name}' has no declared shape; give it with input_shapes "
                                    "(--input-shape NAME=1x3x224x224)")
        dims = []
        for axis, d in enumerate(spec.shape):
            if isinstance(d, int):
                dims.append(d)
            elif isinstance(d, str) and d in bound:
                dims.append(bound[d])
            else:
                v = 1 if axis == 0 or (isinstance(d, str) and d.lower() in _BATCH_NAMES) else DEFAULT_DIM
                if isinstance(d, str):
                    bound[d] = v
                dims.append(v)
        out[name] = tuple(dims)
    return out


def random_array(rng: np.random.Generator, shape: tuple, dtype: np.dtype) -> np.ndarray:
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return rng.standard_normal(shape).astype(dtype)
    if dtype.kind == "b":
        return rng.integers(0, 2, shape).astype(dtype)
    return rng.integers(0, 4, shape).astype(dtype)


def compare_arrays(name: str, got: np.ndarray, expected: np.ndarray, rtol: float, atol: float,
                   relative_to: str = "element") -> OutputComparison:
    """Float values pass when |got - expected| <= atol + rtol * |expected| elementwise (relative_to="element",
    numpy's allclose), or <= atol + rtol * max|expected| (relative_to="tensor": for intermediate values, whose
    rounding errors scale with the magnitudes a layer sums rather than with each element); NaNs must coincide.
    Other dtypes must be equal."""
    got, expected = np.asarray(got), np.asarray(expected)
    base = dict(name=name, shape=tuple(got.shape), dtype=str(got.dtype), ort_shape=tuple(expected.shape),
                ort_dtype=str(expected.dtype))
    if got.shape != expected.shape:
        return OutputComparison(**base, max_abs_diff=float("nan"), rel_l2=float("nan"), passed=False,
                                note=f"shape {list(got.shape)} != onnxruntime {list(expected.shape)}")
    g, e = got.astype(np.float64), expected.astype(np.float64)
    same = (g == e) | (np.isnan(g) & np.isnan(e))   # equal infinities and coinciding NaNs count as equal
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.where(same, 0.0, np.abs(g - e))
    max_abs = float(diff.max()) if diff.size else 0.0
    norm = float(np.linalg.norm(e[np.isfinite(e)]))
    err = float(np.linalg.norm(diff)) if diff.size else 0.0
    rel = err / norm if norm > 0 else err
    if (got.dtype.kind == "f" or expected.dtype.kind == "f") and relative_to == "tensor":
        finite = np.abs(e[np.isfinite(e)])
        bound = atol + rtol * (float(finite.max()) if finite.size else 0.0)
        passed = bool(np.all(diff <= bound))         # a NaN diff (NaN or inf on one side only) fails
    elif got.dtype.kind == "f" or expected.dtype.kind == "f":
        passed = bool(np.allclose(g, e, rtol=rtol, atol=atol, equal_nan=True))
    else:
        passed = bool(np.array_equal(got, expected))
    note = ""
    if got.dtype != expected.dtype:
        passed = False
        note = f"dtype {got.dtype} != onnxruntime {expected.dtype}"
    return OutputComparison(**base, max_abs_diff=max_abs, rel_l2=rel, passed=passed, note=note)


def _ort_session(proto: onnx.ModelProto, num_threads: int, configure=None):
    """An onnxruntime session for `proto`; models with an IR version too new for it run as a re-labelled copy.
    configure(SessionOptions), when given, adds options (profiling, session config entries)."""
    try:
        import onnxruntime as ort
    except ImportError:
        raise VerifyError("onnxruntime is not installed (pip install 'fastconv[verify]')") from None
    so = ort.SessionOptions()
    so.intra_op_num_threads = num_threads
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    if configure is not None:
        configure(so)
    tried = []
    candidates = [None]
    while candidates:
        ir = candidates.pop(0)
        model = proto
        if ir is not None:
            model = onnx.ModelProto()
            model.CopyFrom(proto)
            model.ir_version = ir
        tried.append(ir)
        try:
            return ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"]), ir
        except Exception as e:
            msg = str(e)
            if "IR version" not in msg:
                raise VerifyError(f"onnxruntime could not load the model: {_first_line(e)}") from None
            m = re.search(r"max supported IR version:\s*(\d+)", msg)
            for v in ([int(m.group(1))] if m else []) + [10, 8]:
                if v not in tried and v not in candidates and v < proto.ir_version:
                    candidates.append(v)
            last = e
    raise VerifyError(f"onnxruntime refuses the model's IR version {proto.ir_version}: {_first_line(last)}")


def _first_line(e: Exception) -> str:
    lines = [ln.strip() for ln in str(e).strip().splitlines() if ln.strip()]
    return lines[0] if lines else type(e).__name__


@dataclass
class StepComparison:
    """One plan step's output compared with the same ONNX value in onnxruntime, twice: as fastconv's whole run
    computed it (errors accumulated over every step before) and as this step alone computes it from
    onnxruntime's values of its inputs (`local`: the error this step introduces)."""
    step: int
    nodes: list[str]          # the ONNX nodes this step computes (more than one when fused)
    op: str                   # their op types joined by '+'
    comparison: OutputComparison
    local: OutputComparison
    graph_output: bool        # a graph output: its accumulated value must also pass verify's elementwise test

    @property
    def passed(self) -> bool:
        return self.local.passed and (self.comparison.passed or not self.graph_output)

    def to_dict(self) -> dict:
        c = self.comparison.to_dict()
        return {"step": self.step, "nodes": self.nodes, "op": self.op, **c, "passed": self.passed,
                "accumulated_passed": c["passed"], "graph_output": self.graph_output,
                "local": {k: v for k, v in self.local.to_dict().items() if k in ("max_abs_diff", "rel_l2", "passed",
                                                                                  "note")}}


@dataclass
class LayerwiseReport:
    """Every value fastconv computes, compared with onnxruntime's, in execution order (see compare_layerwise)."""
    rows: list[StepComparison]
    fused_away: dict[str, int]   # ONNX values that do not exist in fastconv -> the step that computes past them
    rtol: float
    atol: float
    num_threads: int
    inputs: dict[str, np.ndarray] = field(repr=False)
    ort_ir_version: int | None = None

    @property
    def ok(self) -> bool:
        return all(r.passed for r in self.rows)

    def __bool__(self) -> bool:
        return self.ok

    @property
    def first_failure(self) -> StepComparison | None:
        """The earliest step whose own computation fails (else the first graph output that fails)."""
        return next((r for r in self.rows if not r.local.passed), None) or \
            next((r for r in self.rows if not r.passed), None)

    def format(self) -> str:
        table = [("step", "op", "output", "shape", "max abs diff", "rel L2", "local max diff", "local rel L2",
                  "check")]
        for r in self.rows:
            c, loc = r.comparison, r.local
            table.append((str(r.step), r.op, c.name + (" (output)" if r.graph_output else ""),
                          "x".join(map(str, c.shape)) or "scalar", f"{c.max_abs_diff:.3g}", f"{c.rel_l2:.3g}",
                          f"{loc.max_abs_diff:.3g}", f"{loc.rel_l2:.3g}", "ok" if r.passed else "FAIL"))
        widths = [max(len(t[k]) for t in table) for k in range(len(table[0]))]
        lines = ["inputs: " + ", ".join(f"{n} {a.dtype}[{'x'.join(map(str, a.shape))}]"
                                        for n, a in self.inputs.items())]
        lines += ["  ".join(c.rjust(w) if k == 0 else c.ljust(w) for k, (c, w) in enumerate(zip(t, widths))).rstrip()
                  for t in table]
        fused = [r for r in self.rows if len(r.nodes) > 1]
        if fused:
            lines.append(f"fused: {len(fused)} steps compute several ONNX nodes; the {len(self.fused_away)} values "
                         "between them do not exist in fastconv and are not compared:")
            lines += [f"  step {r.step}: {' + '.join(r.nodes)}" for r in fused]
        for r in self.rows:
            for what, c in (("", r.comparison), ("local: ", r.local)):
                if c.note:
                    lines.append(f"  {c.name}: {what}{c.note}")
        if self.ort_ir_version is not None:
            lines.append(f"note: onnxruntime ran a copy with ir_version={self.ort_ir_version}")
        lines += ["max abs diff, rel L2: fastconv's run vs onnxruntime's (errors accumulate over the steps before);",
                  "local: the step alone on onnxruntime's inputs. check: local |diff| <= atol + rtol * max|onnxruntime|"
                  + " over the tensor,", "and graph outputs elementwise as in verify"]
        passed = sum(r.passed for r in self.rows)
        verdict = f"{'OK' if self.ok else 'MISMATCH'}: {passed}/{len(self.rows)} values match onnxruntime " \
                  f"(rtol={self.rtol:g}, atol={self.atol:g}, threads={self.num_threads})"
        first = self.first_failure
        if first is not None:
            c = first.local if not first.local.passed else first.comparison
            verdict += (f"; first divergence at step {first.step}: node {' + '.join(first.nodes)} ({first.op}), "
                        f"output {c.name} ({'on onnxruntime inputs: ' if c is first.local else ''}max abs diff "
                        f"{c.max_abs_diff:.3g}, rel L2 {c.rel_l2:.3g})")
        lines.append(verdict)
        return "\n".join(lines)

    def to_dict(self) -> dict:
        first = self.first_failure
        return {"ok": self.ok, "rtol": self.rtol, "atol": self.atol, "num_threads": self.num_threads,
                "inputs": {n: {"shape": list(a.shape), "dtype": str(a.dtype)} for n, a in self.inputs.items()},
                "values": [r.to_dict() for r in self.rows], "fused_away": self.fused_away,
                "first_failure": None if first is None else first.to_dict(), "ort_ir_version": self.ort_ir_version}


def compare_layerwise(model, inputs: dict | None = None, rtol: float = 1e-4, atol: float = 1e-5,
                      num_threads: int | None = None, seed: int = 0, input_shapes: dict | None = None
                      ) -> LayerwiseReport:
    """Compare every value fastconv computes with onnxruntime's (same inputs and threads), step by step.

    fastconv runs its plan keeping every value; onnxruntime runs a copy of the model that declares those values
    as graph outputs. Each step's output is compared as the whole run computed it, and as the step computes it
    alone from onnxruntime's values of its inputs ("local"). Float32 rounding differences grow through a deep
    network (1e-4 relative after ResNet-50's 50 convolutions is normal), so a step fails only when its local
    result is off (|diff| <= atol + rtol * max|expected| over the tensor), or when it is a graph output that
    fails `compare_with_onnxruntime`'s test. `report.first_failure` is the earliest failing step.
    """
    import numba

    from fastconv.tools.intermediates import node_name, onnx_values, plan_value, step_nodes

    proto, _ = load_model_proto(model)
    sess = InferenceSession(proto, num_threads=num_threads)
    feeds = make_inputs(sess, inputs, input_shapes, seed)
    threads = sess.platform.num_threads
    executor, feeds = sess.executor_for_feed(feeds)
    plan = executor.plan
    numba.set_num_threads(threads)
    if not executor.warm:
        executor.run(feeds, [])
    values = executor.run_each(feeds, keep_all=True)
    got = onnx_values(plan, values)
    declared = {o.name for o in proto.graph.output}
    expose = onnx.ModelProto()
    expose.CopyFrom(proto)
    for name in got:
        if name not in declared and name not in feeds:
            elem = onnx.helper.np_dtype_to_tensor_dtype(np.dtype(plan.infos[name].dtype))
            expose.graph.output.append(onnx.helper.make_tensor_value_info(name, elem, None))
    ort_sess, ort_ir = _ort_session(expose, threads)
    names = [o.name for o in ort_sess.get_outputs()]
    try:
        expected = {**feeds, **dict(zip(names, ort_sess.run(names, feeds)))}
    except Exception as e:
        raise VerifyError(f"onnxruntime failed to run the model: {_first_line(e)}") from None
    rows, fused_away = [], {}
    numba.set_num_threads(threads)
    for k, step in enumerate(plan.steps):
        nodes = step_nodes(step)
        # this step alone, on onnxruntime's values of its inputs (constants and values onnxruntime does not
        # have under that name: fastconv's own)
        args = []
        for s in step.in_slots:
            v = None if s < 0 else plan.initial_values[s]
            if s >= 0 and v is None:
                v = plan_value(plan, plan.slot_names[s], expected)
                v = values[s] if v is None else v
            args.append(v)
        only = [None] * len(values)
        for slot, v in zip(step.out_slots, step.fn(*args)):
            if slot >= 0:
                only[slot] = v
        for name, local in onnx_values(plan, only).items():     # this step's outputs, by their ONNX names
            if name in got and name in expected:
                rows.append(StepComparison(
                    k, [node_name(n) for n in nodes], "+".join(n.op_type for n in nodes) or step.node.op_type,
                    compare_arrays(name, got[name], expected[name], rtol, atol),
                    compare_arrays(name, local, expected[name], rtol, atol, "tensor"), name in declared))
        for n in nodes[:-1]:
            for o in n.outputs:
                if o:
                    fused_away[o] = k
    return LayerwiseReport(rows, fused_away, rtol, atol, threads, feeds, ort_ir)
