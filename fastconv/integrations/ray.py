"""Batch inference over a Ray Dataset: `Dataset.map_batches` over a fixed pool of actors, each holding one
fastconv InferenceSession.

Each actor loads the model once (its plans, packed weights and arena are then reused by every batch it gets)
and runs its session with as many threads as CPUs it reserved from Ray, so actors x threads never oversubscribe
the cluster. `predict` is the one-call form; `FastconvPredictor` is the callable class for users who call
`map_batches` themselves.

    ds = ray.data.read_images("photos/", size=(64, 64), mode="RGB", include_paths=True)
    preds = predict(ds, "model.onnx", num_actors=4, threads_per_actor=2)   # columns: path, scores, class, score
"""
from __future__ import annotations

import warnings
from typing import Callable

import numpy as np

try:
    import ray
    import ray.data
except ImportError as e:  # the optional extra is missing
    raise ImportError('fastconv.integrations.ray needs Ray Data: pip install "fastconv[ray]" '
                      f"(installs ray[data] and pillow for ray.data.read_images); {e}") from e

from fastconv.errors import InvalidInputError
from fastconv.onnx import load_model_proto
from fastconv.runtime import InferenceSession

__all__ = ["FastconvPredictor", "predict", "to_nchw_float32"]


def to_nchw_float32(images) -> np.ndarray:
    """The default preprocessing: a batch of (H, W, C) or (H, W) images, as `ray.data.read_images` gives them,
    -> one (N, C, H, W) float32 array; uint8 pixels are divided by 255, other dtypes are only cast."""
    images = np.asarray(images)
    if images.dtype == object:  # Ray hands images of different shapes over as an array of arrays
        shapes = sorted({np.shape(a) for a in images})
        if len(shapes) > 1:
            raise ValueError(f"images of different shapes {shapes[:4]} in one batch; read them with "
                             "ray.data.read_images(..., size=(H, W), mode='RGB') or pass a preprocess")
        images = np.stack(list(images))
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4:
        raise ValueError(f"expected a batch of (H, W, C) or (H, W) images, got an array of shape {images.shape}")
    x = np.ascontiguousarray(images.transpose(0, 3, 1, 2), dtype=np.float32)
    if images.dtype == np.uint8:
        x /= np.float32(255)
    return x


def _cpus_assigned() -> int:
    """The CPUs Ray reserved for the calling actor (1 outside Ray or for a fractional reservation)."""
    try:
        cpus = ray.get_runtime_context().get_assigned_resources().get("CPU", 1)
    except Exception:  # not inside a Ray worker
        cpus = 1
    return max(1, int(cpus))


class FastconvPredictor:
    """Callable class for `Dataset.map_batches(FastconvPredictor, batch_format="numpy", ...)`: Ray creates it
    once per actor, which loads `model` into one InferenceSession, then calls it with every batch.

    `model` is a path (readable on every node), ONNX bytes, an onnx.ModelProto or an ObjectRef of bytes
    (`ray.put`, shipped to each node once). Each call takes the batch's `input_column`, turns it into the model
    input with `preprocess` (default `to_nchw_float32`; it gets the column as Ray hands it over, possibly a
    read-only view, and must not write into it), runs the session and returns the batch's other columns
    (and the input column too with `keep_input`) plus `output_column`, one row of the model output per row;
    with `classify` (a 2-D output such as class probabilities) also `class` (argmax, int64) and `score` (its
    value). `num_threads` defaults to the CPUs Ray reserved for the actor (map_batches' `num_cpus`).
    """

    def __init__(self, model, *, input_column: str = "image", output_column: str = "scores",
                 classify: bool = True, num_threads: int | None = None,
                 preprocess: Callable[[np.ndarray], np.ndarray] | None = None, input_name: str | None = None,
                 output_name: str | None = None, keep_input: bool = False):
        if isinstance(model, ray.ObjectRef):
            model = ray.get(model)
        self.session = InferenceSession(model, num_threads=num_threads or _cpus_assigned())
        self.input_name = _pick("input", input_name, [a.name for a in self.session.get_inputs()])
        self.output_name = _pick("output", output_name, [a.name for a in self.session.get_outputs()])
        self.input_column = input_column
        self.output_column = output_column
        self.classify = classify
        self.preprocess = preprocess or to_nchw_float32
        self.keep_input = keep_input

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        if self.input_column not in batch:
            raise _missing_column(self.input_column, batch)
        x = self.preprocess(batch[self.input_column])
        try:
            (y,) = self.session.run([self.output_name], {self.input_name: x})
        except InvalidInputError as e:
            raise InvalidInputError(f"{e} (model input fed from column {self.input_column!r} after preprocess: "
                                    f"{getattr(x, 'dtype', type(x).__name__)} {list(np.shape(x))})") from e
        out = {k: v for k, v in batch.items() if self.keep_input or k != self.input_column}
        out[self.output_column] = y
        if self.classify:
            if y.ndim != 2:
                raise ValueError(f"classify needs a 2-D (batch, classes) output; {self.output_name!r} is "
                                 f"{list(y.shape)}: pass classify=False")
            cls = y.argmax(axis=1)
            out["class"] = cls.astype(np.int64, copy=False)
            out["score"] = y[np.arange(len(y)), cls]
        return out


def _missing_column(column: str, columns) -> ValueError:
    return ValueError(f"input column {column!r} is not in the dataset; its columns are {sorted(columns)}")


def _pick(kind: str, name: str | None, names: list[str]) -> str:
    if name is None:
        if kind == "input" and len(names) != 1:
            raise ValueError(f"the model has {len(names)} inputs {names}; name the one the column feeds with "
                             "input_name (the others cannot be fed from a dataset column)")
        return names[0]
    if name not in names:
        raise ValueError(f"the model has no {kind} {name!r}; its {kind}s are {names}")
    return name


def _model_bytes(model) -> bytes:
    """The model as self-contained bytes (external data inlined), so actors on any node can load it."""
    if isinstance(model, (bytes, bytearray, memoryview)):
        return bytes(model)
    proto, _ = load_model_proto(model)
    return proto.SerializeToString()


def predict(dataset: ray.data.Dataset, model, *, input_column: str = "image", output_column: str = "scores",
            classify: bool = True, num_actors: int | None = None, threads_per_actor: int = 1, batch_size: int = 64,
            preprocess: Callable[[np.ndarray], np.ndarray] | None = None, input_name: str | None = None,
            output_name: str | None = None, keep_input: bool = False) -> ray.data.Dataset:
    """Run `model` over `dataset` on `num_actors` actors, each reserving `threads_per_actor` CPUs and running one
    session with that many threads on batches of up to `batch_size` rows. Returns the (lazy) Dataset of
    FastconvPredictor's outputs; nothing runs until it is consumed (`take_all`, `iter_rows`, `write_csv`...).

    The pool holds its CPUs for the whole run, and the tasks producing its input (reading and decoding files)
    need CPUs too: if the pool takes every CPU of the cluster they are never scheduled and the run stalls
    (unless the dataset is already materialized). The default `num_actors` leaves one CPU for them.

    `model` (path, bytes or onnx.ModelProto) is read here, with any external data inlined, and put in Ray's
    object store once, so the file need not exist on the other nodes. A wrong `input_column` is reported here
    when the dataset's schema is already known, otherwise by the first batch.
    """
    if (num_actors is not None and num_actors < 1) or threads_per_actor < 1 or batch_size < 1:
        raise ValueError(f"num_actors, threads_per_actor and batch_size must be >= 1, got {num_actors}, "
                         f"{threads_per_actor}, {batch_size}")
    columns = dataset.columns(fetch_if_missing=False)
    if columns is not None and input_column not in columns:
        raise _missing_column(input_column, columns)
    model_ref = ray.put(_model_bytes(model))  # starts a local Ray instance if none is running
    cpus = int(ray.cluster_resources().get("CPU", 0))
    if num_actors is None:
        num_actors = max(1, (cpus - 1) // threads_per_actor)
    if num_actors * threads_per_actor >= cpus:
        warnings.warn(f"{num_actors} actors x {threads_per_actor} CPUs take all {cpus} CPUs of the Ray cluster: "
                      "tasks reading the dataset cannot be scheduled and the run stalls unless the dataset is "
                      "materialized; use fewer actors or threads", stacklevel=2)
    return dataset.map_batches(
        FastconvPredictor,
        fn_constructor_args=(model_ref,),
        fn_constructor_kwargs=dict(input_column=input_column, output_column=output_column, classify=classify,
                                   num_threads=threads_per_actor, preprocess=preprocess, input_name=input_name,
                                   output_name=output_name, keep_input=keep_input),
        batch_size=batch_size, batch_format="numpy", compute=ray.data.ActorPoolStrategy(size=num_actors),
        num_cpus=threads_per_actor)
