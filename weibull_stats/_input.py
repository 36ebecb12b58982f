"""Input checks shared by every estimator: one place, one set of messages.

The rule for signed input
-------------------------
Estimators fit a Weibull law to *positive* data. By default (``values="magnitudes"``)
the input must already be magnitudes: a negative value is an error that names the count.
Pass ``values="weights"`` to fit the magnitudes ``|w|`` of signed weights; the choice is
recorded in the result's options. Magnitudes are computed exactly (``abs`` is exact in
every float format) and accumulated in float64 by the estimators.

Zeros cannot enter a fit that takes a logarithm: they are an error unless
``zeros="omit"``, which drops them and records how many in ``WeibullFit.n_omitted``.
Non-finite values (NaN, +-inf) are handled the same way with ``nonfinite=``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

Values = Literal["magnitudes", "weights"]
Policy = Literal["error", "omit"]

VALUES_CHOICES: tuple[str, ...] = ("magnitudes", "weights")
POLICY_CHOICES: tuple[str, ...] = ("error", "omit")


@dataclass(frozen=True, slots=True)
class Sample:
    """Checked one-dimensional positive sample.

    Attributes
    ----------
    data : numpy.ndarray
        Finite, strictly positive values, one-dimensional, in the input's float dtype
        (float16, float32 or float64) so that sorting stays cheap; estimators convert
        to float64 before any arithmetic.
    n : int
        Number of values given (before anything was omitted).
    n_omitted : dict
        ``{"nonfinite": int, "zeros": int}``: values dropped by an explicit option.
    """

    data: np.ndarray
    n: int
    n_omitted: dict[str, int]


def check_choice(value: Any, name: str, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise a message naming ``name``."""
    if not isinstance(value, str) or value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"`{name}` must be one of {listed}; got {value!r}")
    return value


def to_numpy(x: Any, name: str = "x") -> np.ndarray:
    """Convert numpy arrays, sequences and torch tensors (any float dtype) to numpy.

    torch tensors are detached and moved to the CPU; bfloat16 is widened to float32, which
    is exact. Integer and boolean input is refused: weights are floating point.
    """
    if type(x).__module__.startswith("torch"):
        import torch

        tensor = x.detach()
        if tensor.dtype == torch.bfloat16:
            tensor = tensor.float()
        x = tensor.cpu().numpy()
    try:
        array = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"`{name}` could not be converted to a numeric array: {exc}") from None
    if array.dtype.kind in "iub":
        array = array.astype(np.float64)
    if array.dtype.kind != "f":
        raise TypeError(f"`{name}` must hold real floating-point numbers; got dtype {array.dtype}")
    if array.dtype == np.longdouble and array.dtype != np.float64:
        array = array.astype(np.float64)
    return array


def check_sample(
    x: Any,
    *,
    name: str = "x",
    values: str = "magnitudes",
    nonfinite: str = "error",
    zeros: str = "error",
    min_size: int = 2,
) -> Sample:
    """Convert ``x`` and enforce the bad-input policy (see the module docstring).

    Raises
    ------
    ValueError
        Empty input, NaN/inf values, negative values, zeros, constant data or fewer than
        ``min_size`` usable values; the message names the argument and gives the count.
    """
    check_choice(values, "values", VALUES_CHOICES)
    check_choice(nonfinite, "nonfinite", POLICY_CHOICES)
    check_choice(zeros, "zeros", POLICY_CHOICES)
    array = to_numpy(x, name).reshape(-1)
    n = int(array.size)
    if n == 0:
        raise ValueError(f"`{name}` is empty; a Weibull fit needs at least {min_size} values")

    omitted = {"nonfinite": 0, "zeros": 0}
    finite = np.isfinite(array)
    n_bad = n - int(np.count_nonzero(finite))
    if n_bad:
        if nonfinite == "error":
            n_nan = int(np.count_nonzero(np.isnan(array)))
            raise ValueError(
                f"`{name}` has {n_bad} non-finite values out of {n} ({n_nan} NaN, "
                f"{n_bad - n_nan} infinite); pass nonfinite='omit' to drop them"
            )
        array = array[finite]
        omitted["nonfinite"] = n_bad

    if values == "weights":
        array = np.abs(array)
    else:
        n_negative = int(np.count_nonzero(array < 0))
        if n_negative:
            raise ValueError(
                f"`{name}` has {n_negative} negative values out of {n}; magnitudes are "
                "expected (pass values='weights' to fit |x|)"
            )

    n_zero = int(array.size - np.count_nonzero(array))
    if n_zero:
        if zeros == "error":
            raise ValueError(
                f"`{name}` has {n_zero} zeros out of {n}; a Weibull fit takes log(x) "
                "(pass zeros='omit' to drop them)"
            )
        array = array[array != 0]
        omitted["zeros"] = n_zero

    if array.size < min_size:
        raise ValueError(
            f"`{name}` has {array.size} usable values out of {n}; at least {min_size} are needed"
        )
    low, high = array.min(), array.max()
    if low == high:
        raise ValueError(
            f"`{name}` is constant (all {array.size} values equal {float(low)!r}); "
            "a Weibull shape cannot be estimated"
        )
    return Sample(data=array, n=n, n_omitted=omitted)


def check_trim(trim: Any) -> tuple[float, float]:
    """Validate a ``(low, high)`` window of probabilities, ``0 <= low < high <= 1``."""
    try:
        low, high = (float(v) for v in trim)
    except (TypeError, ValueError):
        raise ValueError(f"`trim` must be a pair (low, high) of probabilities; got {trim!r}") from None
    if not (0.0 <= low < high <= 1.0):
        raise ValueError(f"`trim` must satisfy 0 <= low < high <= 1; got ({low}, {high})")
    return low, high
