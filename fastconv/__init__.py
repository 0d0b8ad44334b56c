"""fastconv: a CPU inference engine for ONNX convolutional networks."""
import os as _os

# Numba's OpenMP workers: spin briefly after each parallel kernel (catching the next kernel of the same inference
# without a futex wake-up, which cost 20-60 us per kernel here), then sleep (so idle sessions, and other processes
# sharing the cores, are not starved). libgomp reads this when Numba starts its pool, i.e. at the first parallel
# kernel; an explicit OMP_WAIT_POLICY or GOMP_SPINCOUNT of the user wins. Measurements: docs/KERNELS.md, "threads".
if "OMP_WAIT_POLICY" not in _os.environ and "GOMP_SPINCOUNT" not in _os.environ:
    _os.environ["GOMP_SPINCOUNT"] = "20000"
from fastconv.errors import (
    FastconvError,
    InvalidInputError,
    InvalidModelError,
    ResourceLimitError,
    UnsupportedError,
)
from fastconv.ops import supported_ops
from fastconv.runtime import InferenceSession, NodeArg

__version__ = "0.1.0"

__all__ = [
    "FastconvError", "InvalidInputError", "InvalidModelError", "ResourceLimitError", "UnsupportedError",
    "InferenceSession", "NodeArg", "supported_ops", "compare_with_onnxruntime", "summary", "__version__",
]


def compare_with_onnxruntime(model, inputs=None, rtol=1e-4, atol=1e-5, **kwargs):
    """Run `model` in fastconv and onnxruntime on the same inputs; see fastconv.tools.verify."""
    from fastconv.tools.verify import compare_with_onnxruntime as _compare

    return _compare(model, inputs, rtol=rtol, atol=atol, **kwargs)


def summary(model, input_shapes=None, num_threads=None):
    """Per-node output shapes, window geometry, parameters, MACs and receptive field of `model` (path, bytes,
    ModelProto or InferenceSession) at `input_shapes`; see fastconv.tools.summary. `print(summary(...))` shows
    the table, `.to_dict()` gives it as JSON-ready data."""
    from fastconv.tools.summary import summary as _summary

    return _summary(model, input_shapes, num_threads)
