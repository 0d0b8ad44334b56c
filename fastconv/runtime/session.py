"""InferenceSession: the public API, shaped like onnxruntime's so users switch by changing one import."""
from __future__ import annotations

import threading
from dataclasses import dataclass

import numba
import numpy as np

from fastconv.errors import InvalidInputError
from fastconv.graph.ir import TensorInfo
from fastconv.onnx import import_model, load_model_proto
from fastconv.errors import UnsupportedError
from fastconv.plan.planner import NeedsInputValues, PlanContext, build_plan
from fastconv.platform import Platform
from fastconv.runtime import threads
from fastconv.runtime.executor import Executor


@dataclass(frozen=True)
class NodeArg:
    name: str
    shape: list     # ints, or str for symbolic dims (None when unnamed), as onnxruntime reports them
    type: str       # e.g. 'tensor(float)'


def _type_string(dtype: np.dtype) -> str:
    name = {np.dtype(np.float32): "float", np.dtype(np.float64): "double", np.dtype(np.bool_): "bool"}.get(dtype)
    return f"tensor({name or dtype.name})"


# Any one tensor (initializer, input, inferred value) above this many bytes is refused with ResourceLimitError.
DEFAULT_MAX_TENSOR_BYTES = 4 << 30


class InferenceSession:
    """Load an ONNX model once; `run` it many times, from any number of threads.

    A plan (inferred shapes, folded constants, chosen kernels, packed weights) is built per distinct set of
    input shapes and cached; models with fixed input shapes are planned here, at load time. `max_tensor_bytes`
    (None: no limit) bounds every declared tensor, so that a hostile or broken model fails with
    ResourceLimitError instead of allocating gigabytes. At most `max_plans` plans are kept (the oldest is dropped
    first): a service fed ever new input shapes does not grow without bound. `thread_wait` ("brief", "passive",
    "active"; None keeps the process's) says how worker threads wait between parallel kernels: see
    fastconv/runtime/threads.py (a per-process setting of libgomp, fixed by the first session).
    """

    def __init__(self, model, num_threads: int | None = None, *, base_dir: str | None = None,
                 kernel_overrides: dict[str, str] | None = None, fuse: bool = True, arena: bool = True,
                 layout: bool = True, warmup: bool = True,
                 max_tensor_bytes: int | None = DEFAULT_MAX_TENSOR_BYTES, max_plans: int = 32,
                 thread_wait: str | None = None, providers=None, sess_options=None):
        # before anything can start Numba's thread pool (planning folds constants with parallel kernels)
        self.thread_wait = threads.request(thread_wait)
        if max_plans < 1:
            raise ValueError(f"max_plans must be >= 1, got {max_plans}")
        self._max_plans = max_plans
        proto, _ = load_model_proto(model, base_dir)
        self._graph = import_model(proto, max_tensor_bytes)
        del proto  # the graph holds the weights now: no third copy (proto + constants + packed) at planning
        self.platform = Platform.detect(num_threads)
        self._ctx = PlanContext(self.platform, dict(kernel_overrides or {}), fuse=fuse, arena=arena,
                                layout=layout, max_tensor_bytes=max_tensor_bytes)
        self._executors: dict[tuple, Executor] = {}
        # Graph inputs whose values (not just shapes) decide output shapes, e.g. a Reshape's shape or
        # Resize's scales fed at run time: plans are keyed on their values too.
        self._value_inputs: set[str] = set()
        self._lock = threading.Lock()
        self._inputs = {v.name: v for v in self._graph.inputs}
        self._output_index = {v.name: k for k, v in enumerate(self._graph.outputs)}
        if all(v.shape is not None and all(isinstance(d, int) for d in v.shape) for v in self._graph.inputs):
            try:
                ex = self._executor_for({v.name: tuple(v.shape) for v in self._graph.inputs})
            except NeedsInputValues as e:  # planned on first run, when the values are known
                self._value_inputs |= self._checked_value_inputs(e)
            else:
                if warmup:
                    self._warm_up(ex)

    @property
    def graph(self):
        return self._graph

    def get_inputs(self) -> list[NodeArg]:
        return [NodeArg(v.name, list(v.shape or []), _type_string(v.dtype)) for v in self._graph.inputs]

    def get_outputs(self) -> list[NodeArg]:
        """Declared output shapes; for models planned at load time (fixed input shapes), fastconv's own inferred
        shapes and dtypes, which may correct missing or wrong declarations."""
        planned = next(iter(self._executors.values()), None) if len(self._executors) == 1 and all(
            v.shape is not None and all(isinstance(d, int) for d in v.shape) for v in self._graph.inputs) else None
        args = []
        for v in self._graph.outputs:
            info = planned.plan.infos.get(v.name) if planned is not None else None
            if info is not None:
                args.append(NodeArg(v.name, list(info.shape), _type_string(info.dtype)))
            else:
                args.append(NodeArg(v.name, list(v.shape or []), _type_string(v.dtype)))
        return args

    def get_providers(self) -> list[str]:
        return ["FastconvCPUExecutionProvider"]

    def run(self, output_names, input_feed: dict, run_options=None) -> list[np.ndarray]:
        feeds = self._check_inputs(input_feed)
        if output_names is None:
            output_names = list(self._output_index)
        unknown = [n for n in output_names if n not in self._output_index]
        if unknown:
            raise InvalidInputError(f"unknown output name(s) {unknown}; the model's outputs are "
                                    f"{list(self._output_index)}")
        executor = self._executor_for({n: a.shape for n, a in feeds.items()}, feeds)
        numba.set_num_threads(self.platform.num_threads)
        slots = [executor.plan.output_slots[self._output_index[n]] for n in output_names]
        return executor.run(feeds, slots)

    def memory_info(self) -> dict:
        """Memory of the plans made so far: per plan (input shapes), the arena holding kernel outputs (bytes),
        what allocating each planned output separately would hold, the peak of live planned bytes, and how many
        arenas exist (one per run that overlapped another)."""
        info = {}
        for key, ex in list(self._executors.items()):
            mp = ex.plan.memory
            info[str(key[0])] = {"arena_bytes": ex.arena_bytes, "arenas": ex.arenas_created,
                                 "planned_bytes": mp.planned_bytes if mp else 0,
                                 "peak_live_bytes": mp.peak_live_bytes if mp else 0,
                                 "planned_buffers": len(mp.buffers) if mp else 0}
        return info

    def layout_info(self) -> dict:
        """Per plan (input shapes): how many steps run on blocked NCHWc buffers, how many on plain tensors, and
        the reorders the layout pass inserted between them (fastconv/plan/layout.py)."""
        info = {}
        for key, ex in list(self._executors.items()):
            steps = ex.plan.steps
            reorders = [s for s in steps if s.node.op_type == "Reorder"]
            blocked = sum(1 for s in steps if s.node.op.layout)
            info[str(key[0])] = {"blocked_steps": blocked, "plain_steps": len(steps) - blocked - len(reorders),
                                 "reorders": len(reorders),
                                 "reorder_bytes": sum(ex.plan.infos[s.node.outputs[0]].dtype.itemsize *
                                                      int(np.prod(ex.plan.infos[s.node.outputs[0]].shape))
                                                      for s in reorders)}
        return info

    def plan_for(self, shapes: dict[str, tuple]):
        """The plan used for these input shapes (built and cached on first use)."""
        return self._executor_for({k: tuple(v) for k, v in shapes.items()}).plan

    def profile(self, input_feed: dict | None = None, iterations: int = 10, warmup: int = 1):
        """Per-node timings: `iterations` runs step by step after `warmup` normal runs, on `input_feed` (random
        inputs when None). Returns a fastconv.tools.profile.Profile (`.steps`, `.format()`, `.to_dict()`)."""
        from fastconv.tools.profile import profile_session

        return profile_session(self, input_feed, iterations=iterations, warmup=warmup)

    def intermediates(self, input_feed: dict) -> dict[str, np.ndarray]:
        """Every value this run computes that has an ONNX name ({ONNX value name: array}), from one step-by-step
        run that keeps all values; values fused away (e.g. a conv output before its fused BatchNorm) are absent."""
        from fastconv.tools.intermediates import onnx_values

        executor, feeds = self.executor_for_feed(input_feed)
        numba.set_num_threads(self.platform.num_threads)
        if not executor.warm:  # compile with the progress bar of a first run
            executor.run(feeds, [])
        return onnx_values(executor.plan, executor.run_each(feeds, keep_all=True))

    def executor_for_feed(self, input_feed: dict) -> tuple[Executor, dict[str, np.ndarray]]:
        """(the executor `run` uses for this feed, the checked feeds): for tools that run a plan their own way."""
        feeds = self._check_inputs(input_feed)
        return self._executor_for({n: a.shape for n, a in feeds.items()}, feeds), feeds

    # -- internals ---------------------------------------------------------------------------------
    MAX_VALUE_INPUT_ELEMENTS = 4096

    def _warm_up(self, ex: Executor) -> None:
        """Run a plan made at load once on zeros, so that JIT compilation (or loading compiled kernels from
        Numba's cache) happens in session creation, with a progress bar, and not in the first request. A
        failure here is left for the real run to report with its real inputs."""
        feeds = {v.name: np.zeros(v.shape, v.dtype) for v in self._graph.inputs}
        numba.set_num_threads(self.platform.num_threads)
        try:
            with np.errstate(all="ignore"):
                ex.run(feeds, [])
        except Exception:  # noqa: BLE001 - see docstring (ex.warm stays False: the next run goes step by step)
            pass

    def _checked_value_inputs(self, e: NeedsInputValues) -> set[str]:
        def small_enough(name):
            shape = self._inputs[name].shape
            if shape is None or not all(isinstance(d, int) for d in shape):
                return True  # checked against the fed array
            return int(np.prod(shape)) <= self.MAX_VALUE_INPUT_ELEMENTS

        small = {n for n in e.names if small_enough(n)}
        if not small or small <= self._value_inputs:
            raise UnsupportedError(f"{e} (it depends on the data of input(s) {sorted(e.names) or '[]'})") from None
        return small

    def _executor_for(self, shapes: dict[str, tuple], feeds: dict | None = None) -> Executor:
        while True:
            values = tuple(None if feeds is None or v.name not in self._value_inputs else
                           (feeds[v.name].dtype.str, feeds[v.name].tobytes()) for v in self._graph.inputs)
            key = (tuple(shapes[v.name] for v in self._graph.inputs), values)
            ex = self._executors.get(key)
            if ex is not None:
                return ex
            with self._lock:
                ex = self._executors.get(key)
                if ex is not None:
                    return ex
                infos = {v.name: TensorInfo(v.dtype, tuple(shapes[v.name]),
                                            feeds[v.name] if feeds is not None and v.name in self._value_inputs
                                            else None) for v in self._graph.inputs}
                try:
                    ex = Executor(build_plan(self._graph, infos, self._ctx))
                except NeedsInputValues as e:
                    if feeds is None:
                        raise
                    for name in self._checked_value_inputs(e):
                        if feeds[name].size > self.MAX_VALUE_INPUT_ELEMENTS:
                            raise UnsupportedError(f"{e} (input '{name}' is too large to plan on its values)") \
                                from None
                        self._value_inputs.add(name)
                    continue
                while len(self._executors) >= self._max_plans:   # oldest first; runs holding it finish normally
                    self._executors.pop(next(iter(self._executors)))
                self._executors[key] = ex
                return ex

    def _check_inputs(self, input_feed: dict) -> dict[str, np.ndarray]:
        if not isinstance(input_feed, dict):
            raise InvalidInputError("input_feed must be a dict {input name: array}")
        extra = [n for n in input_feed if n not in self._inputs]
        if extra:
            raise InvalidInputError(f"unknown input name(s) {extra}; the model's inputs are {list(self._inputs)}")
        missing = [n for n in self._inputs if n not in input_feed]
        if missing:
            raise InvalidInputError(f"missing input(s) {missing}")
        feeds = {}
        for name, spec in self._inputs.items():
            arr = np.asarray(input_feed[name])  # lists, scalars and ndarray subclasses become plain arrays
            if arr.dtype != spec.dtype:
                raise InvalidInputError(f"input '{name}' has dtype {arr.dtype}; expected {spec.dtype} "
                                        f"({_type_string(spec.dtype)})")
            if spec.shape is not None:
                if arr.ndim != len(spec.shape):
                    raise InvalidInputError(f"input '{name}' has rank {arr.ndim} (shape {list(arr.shape)}); "
                                            f"expected rank {len(spec.shape)} (shape {list(spec.shape)})")
                for axis, (got, want) in enumerate(zip(arr.shape, spec.shape)):
                    if isinstance(want, int) and got != want:
                        raise InvalidInputError(f"input '{name}' has shape {list(arr.shape)}; dimension {axis} "
                                                f"must be {want} (model shape {list(spec.shape)})")
            # Kernels are bound to C-contiguous aligned arrays on their first call (kernels/numba/bound.py):
            # strided, Fortran-order, broadcast and unaligned arrays are copied; read-only ones are read in place
            feeds[name] = np.require(arr, requirements=("C", "A"))  # keeps 0-d inputs 0-d
        return feeds


