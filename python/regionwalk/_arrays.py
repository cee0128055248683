"""Conversion of user arrays to what the engine takes: float64, without changing any value.

float16/float32 widen to float64 exactly, integers are accepted when float64 holds them exactly,
and anything else (complex, object, bool, long double that does not round-trip) is refused with
the argument's name. Layout (Fortran order, strides, negative strides) does not matter: the
native side reads strided views.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def floats(value: Any, name: str, ndim: int) -> np.ndarray:
    """`value` as a float64 array of `ndim` dimensions, or a clear error."""
    a = np.asarray(value)
    if a.dtype.kind not in "fiu":
        raise TypeError(f"{name}: expected real numbers, got an array of dtype {a.dtype}")
    if a.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D array, got shape {a.shape}")
    if a.dtype == np.float64:
        return a
    b = a.astype(np.float64)
    if a.dtype.kind in "iu" or a.dtype.itemsize > 8:
        # Integers above 2**53 and long doubles may not survive the cast: refuse rather than round.
        if not np.array_equal(b.astype(a.dtype), a):
            raise ValueError(f"{name}: values of dtype {a.dtype} that float64 cannot hold exactly")
    return b

