"""The models a server holds: a session per model with its protocol metadata and whether it can be batched, and
the ModelServer that gives each its queue."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass

import numpy as np

from fastconv.serve.batcher import Batcher
from fastconv.serve.protocol import TensorSpec

PLATFORM = "fastconv_onnx"
VERSION = "1"   # one version per model: the file served
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")  # one URL path segment, no escaping needed
_TYPE_STRINGS = {"float": np.float32, "double": np.float64, "bool": np.bool_}


@dataclass
class ServedModel:
    """A loaded model: `session` (an InferenceSession), its inputs and outputs as the protocol describes them,
    and `batchable`: every input and output has the same symbolic first dim (a batch axis), so that requests
    may be concatenated along axis 0 and the results split back."""

    name: str
    session: object
    inputs: list[TensorSpec]
    outputs: list[TensorSpec]
    batchable: bool
    version: str = VERSION

    @classmethod
    def from_session(cls, name: str, session) -> ServedModel:
        check_name(name)
        graph = session.graph
        inputs = [TensorSpec(v.name, np.dtype(v.dtype), _dims(v.shape)) for v in graph.inputs]
        # get_outputs: the shapes and dtypes fastconv inferred for models planned at load, else the declared ones
        outputs = [TensorSpec(a.name, _dtype(a.type), _dims(a.shape)) for a in session.get_outputs()]
        firsts = [v.shape[0] if v.shape else None for v in (*graph.inputs, *graph.outputs)]
        batchable = isinstance(firsts[0], str) and all(f == firsts[0] for f in firsts)
        return cls(name, session, inputs, outputs, batchable)

    def metadata(self) -> dict:
        return {"name": self.name, "versions": [self.version], "platform": PLATFORM,
                "inputs": [s.metadata() for s in self.inputs], "outputs": [s.metadata() for s in self.outputs]}

    def warm_up(self) -> None:
        """One run on zeros (dynamic dims 1), so that the first request does not pay for planning and the first
        run of a plan. Failures are left for real requests to report."""
        if any(s.shape is None for s in self.inputs):
            return
        feeds = {s.name: np.zeros([1 if d is None else d for d in s.shape], s.dtype) for s in self.inputs}
        try:
            with np.errstate(all="ignore"):
                self.session.run(None, feeds)
        except Exception:  # noqa: BLE001 - see docstring
            pass

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Every output of the model for `feeds`, by name."""
        return dict(zip((s.name for s in self.outputs), self.session.run(None, feeds)))


def _dims(shape) -> tuple | None:
    """Declared dims -> ints, None for symbolic or unknown dims (the protocol's -1); None for unknown rank."""
    if shape is None:
        return None
    return tuple(d if isinstance(d, int) else None for d in shape)


def _dtype(type_string: str) -> np.dtype:
    name = type_string.removeprefix("tensor(").removesuffix(")")
    return np.dtype(_TYPE_STRINGS.get(name, name))


class ModelNameError(ValueError):
    """A model name that cannot be served: not one URL segment, or given twice."""


def check_name(name: str) -> None:
    if not _NAME.match(name):
        raise ModelNameError(f"model name {name!r}: use letters, digits, '_', '-' and '.' only (it is a URL segment)")


def parse_model_arg(arg: str) -> tuple[str, str]:
    """'NAME=PATH' or 'PATH' (name: the file's stem) -> (name, path)."""
    name, sep, path = arg.partition("=")
    if not sep or os.path.exists(arg):  # a path may itself contain '='
        name, path = os.path.splitext(os.path.basename(arg))[0], arg
    check_name(name)
    return name, path


def load_models(args: list[str], num_threads: int | None = None) -> list[ServedModel]:
    """ServedModels for 'NAME=PATH' / 'PATH' arguments (names checked before any model is loaded)."""
    from fastconv import InferenceSession

    named = [parse_model_arg(a) for a in args]
    names = [n for n, _ in named]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ModelNameError(f"two models are named {twice[0]!r}: give one as NAME=PATH")
    return [ServedModel.from_session(n, InferenceSession(p, num_threads=num_threads)) for n, p in named]


class ModelServer:
    """What the HTTP routes serve: the models by name (each run once at startup), a Batcher each, readiness."""

    def __init__(self, models: list[ServedModel], *, max_batch: int = 8, max_delay: float = 0.0,
                 max_queue: int = 256):
        self.models = {m.name: m for m in models}
        for m in models:
            m.warm_up()
        self.batchers = {m.name: Batcher(m.run, batchable=m.batchable, max_batch=max_batch, max_delay=max_delay,
                                         max_queue=max_queue, name=m.name) for m in models}
        self.ready = True

    def close(self) -> None:
        """Not ready any more; queued requests finish, then the workers stop."""
        self.ready = False
        for b in self.batchers.values():
            b.close()
