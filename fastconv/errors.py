"""Exceptions raised by fastconv. Every message names the node or input concerned."""
import numpy as np


class FastconvError(Exception):
    """Base class of every error fastconv raises on purpose."""


class InvalidModelError(FastconvError, ValueError):
    """The model is malformed: bad graph structure, attribute out of range, inconsistent shapes."""


class UnsupportedError(FastconvError, NotImplementedError):
    """The model is valid ONNX but uses an op, attribute value or dtype fastconv does not implement."""


class InvalidInputError(FastconvError, ValueError):
    """A tensor given to `run` has the wrong name, dtype, rank or shape."""


class ResourceLimitError(FastconvError, MemoryError):
    """A tensor or buffer would exceed a configured limit."""


def check_tensor_bytes(where: str, shape, dtype, limit: int | None) -> None:
    """Refuse a declared tensor above `limit` bytes before anything of its size is allocated (Python ints: a
    product of absurd dims must not wrap around as numpy's int64 would)."""
    if limit is None or shape is None or not all(isinstance(d, int) for d in shape):
        return
    size = np.dtype(dtype).itemsize
    for d in shape:
        size *= d
    if size > limit:
        raise ResourceLimitError(f"{where} would hold {size} bytes ({np.dtype(dtype)}{list(shape)}), above the "
                                 f"limit of {limit} bytes (InferenceSession(max_tensor_bytes=...))")
