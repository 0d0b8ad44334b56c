"""fastconv: a CPU inference engine for ONNX convolutional networks."""
import os as _os

# Numba's OpenMP workers spin after each parallel kernel by default, and so do OpenBLAS's workers after each
# matmul; interleaved, they starve each other (resnet_small: 89 ms per run at 2 threads vs 2.2 ms passive).
# Must be set before Numba starts its thread pool; a user's explicit setting wins. See docs/ARCHITECTURE.md.
if not _os.environ.get("FASTCONV_NO_OMP_DEFAULTS"):
    _os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
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
    "InferenceSession", "NodeArg", "supported_ops", "compare_with_onnxruntime", "__version__",
]


def compare_with_onnxruntime(model, inputs=None, rtol=1e-4, atol=1e-5, **kwargs):
    """Run `model` in fastconv and onnxruntime on the same inputs; see fastconv.tools.verify."""
    from fastconv.tools.verify import compare_with_onnxruntime as _compare

    return _compare(model, inputs, rtol=rtol, atol=atol, **kwargs)
