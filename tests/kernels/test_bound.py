"""kernels/numba/bound.py: a bound caller runs the specialisation its first call resolved, for every later call."""
import numpy as np
from numba import njit

from fastconv.kernels.numba.bound import bound
from fastconv.kernels.numba.simd import lanes, width_token


@njit(cache=True)
def _scale(x, out, k, w):
    for i in range(x.size):
        out[i] = x[i] * k + (i % lanes(w)) * 0   # the width token types like the kernels' (a custom type)


def test_bound_caller_matches_dispatcher_per_specialisation():
    f32 = bound(_scale)
    f64 = bound(_scale)
    x32 = np.arange(16, dtype=np.float32)
    x64 = np.arange(16, dtype=np.float64)
    for k in (2, 3, 5):   # first call through the dispatcher, the others through the entry point
        o32, o64 = np.empty_like(x32), np.empty_like(x64)
        f32(x32, o32, k, width_token(8))
        f64(x64, o64, k, width_token(4))
        np.testing.assert_array_equal(o32, x32 * k)
        np.testing.assert_array_equal(o64, x64 * k)
    assert len(_scale.overloads) >= 2 and f32.__wrapped__ is _scale
