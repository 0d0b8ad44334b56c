"""Elementwise math that numpy has no ufunc for, over flat contiguous arrays (float32 or float64)."""
from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True)
def _erf_flat(x, out):
    for i in range(x.shape[0]):
        out[i] = math.erf(x[i])


def erf(x: np.ndarray) -> np.ndarray:
    """math.erf elementwise; same shape and dtype as x."""
    flat = np.ascontiguousarray(x).reshape(-1)
    out = np.empty_like(flat)
    _erf_flat(flat, out)
    return out.reshape(x.shape)
