"""Op families. Importing this package registers every supported op (see registry.supported_ops())."""
from fastconv.ops import (  # noqa: F401  (imported for their registrations)
    conv,
    elementwise,
    gemm,
    normalization,
    pool,
    reduce,
    resize,
    tensor,
)
from fastconv.ops.registry import supported_ops

__all__ = ["supported_ops"]
