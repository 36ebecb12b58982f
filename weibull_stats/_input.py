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

from weibull_stats.sample import BFLOAT16, as_sample
from weibull_stats.sample import Sample as CheckedSample

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
    owned : bool
        True when ``data`` is a fresh array that the estimator may modify in place (for
        example sort), False when it may be a view of the caller's input.
    from_bfloat16 : bool
        True when ``x`` was a bfloat16 tensor: ``data`` is then float32 holding exactly the
        bfloat16 values, which lets order-statistic estimators count bit patterns instead
        of sorting.
    """

    data: np.ndarray
    n: int
    n_omitted: dict[str, int]
    owned: bool = False
    from_bfloat16: bool = False


def check_choice(value: Any, name: str, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise a message naming ``name``.

    Examples
    --------
    >>> check_choice("omit", "zeros", POLICY_CHOICES)
    'omit'
    >>> check_choice("drop", "zeros", POLICY_CHOICES)
    Traceback (most recent call last):
    ...
    ValueError: `zeros` must be one of 'error', 'omit'; got 'drop'
    """
    if not isinstance(value, str) or value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"`{name}` must be one of {listed}; got {value!r}")
    return value


def to_numpy(x: Any, name: str = "x") -> np.ndarray:
    """Convert numpy arrays, sequences and torch tensors (any float dtype) to numpy.

    torch tensors are detached and moved to the CPU; bfloat16 is widened to float32, which
    is exact. Integer input (for example a list of whole numbers) is converted to float64;
    boolean, complex, string and object input is refused with a message naming ``name``.

    Examples
    --------
    >>> import numpy as np
    >>> to_numpy([1, 2, 3]).dtype, to_numpy(np.ones(2, dtype=np.float32)).dtype
    (dtype('float64'), dtype('float32'))
    """
    if type(x).__module__.startswith("torch"):
        import torch

        tensor = x.detach().cpu()
        if tensor.dtype == torch.bfloat16:
            # widen in numpy from the bit patterns: exact (bfloat16 is the upper half of a
            # float32) and free of torch's thread pool, which is slow on a busy machine
            bits = tensor.contiguous().view(torch.int16).numpy().view(np.uint16)
            x = (bits.astype(np.uint32) << np.uint32(16)).view(np.float32)
        else:
            x = tensor.numpy()
    try:
        array = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"`{name}` could not be converted to a numeric array: {exc}") from None
    if array.dtype == BFLOAT16:  # an ml_dtypes.bfloat16 array (the checkpoint readers): widen exactly
        array = (array.view(np.uint16).astype(np.uint32) << np.uint32(16)).view(np.float32)
    if array.dtype.kind in "iu":
        array = array.astype(np.float64)
    if array.dtype.kind != "f":
        raise TypeError(f"`{name}` must hold real floating-point numbers; got dtype {array.dtype}")
    if array.dtype == np.longdouble and array.dtype != np.float64:
        array = array.astype(np.float64)
    return array


def check_policy(values: str, nonfinite: str, zeros: str) -> None:
    """Validate the three bad-input options (see the module docstring).

    Examples
    --------
    >>> check_policy("weights", "error", "omit")
    """
    check_choice(values, "values", VALUES_CHOICES)
    check_choice(nonfinite, "nonfinite", POLICY_CHOICES)
    check_choice(zeros, "zeros", POLICY_CHOICES)


@dataclass(frozen=True, slots=True)
class PatternCounts:
    """A sample of 16-bit floats as its distinct magnitudes (ascending) and their counts.

    Attributes
    ----------
    values : numpy.ndarray
        Distinct positive magnitudes, ascending (float32, exact).
    counts : numpy.ndarray
        int64 multiplicities, same length.
    n : int
        Number of values (the sum of ``counts``).
    """

    values: np.ndarray
    counts: np.ndarray
    n: int


#: bfloat16 bit patterns: 0x0000 is +0, 0x7F80 is +inf, above it NaN; the sign is 0x8000.
_BF16_SIGN = 0x8000
_BF16_INF = 0x7F80


def count_patterns16(bits: np.ndarray, shift: int = 0) -> np.ndarray:
    """Counts of the 2^16 values of ``bits >> shift`` (unsigned integers), in chunks.

    :func:`numpy.bincount` widens its input to ``intp``; chunking keeps that copy small
    (a full-size copy of a 16.7M-value tensor would cost more in page faults than the count).

    Examples
    --------
    >>> import numpy as np
    >>> counts = count_patterns16(np.array([3, 3, 65535], dtype=np.uint16))
    >>> counts.size, int(counts[3]), int(counts[65535])
    (65536, 2, 1)
    """
    counts = np.zeros(1 << 16, dtype=np.int64)
    step = 1 << 18
    for start in range(0, bits.size, step):
        part = bits[start : start + step]
        if shift:
            part = part >> part.dtype.type(shift)
        counts += np.bincount(part, minlength=1 << 16)
    return counts


def bfloat16_magnitude_counts(x: Any, values: str) -> PatternCounts | None:
    """Count the bit patterns of a *clean* bfloat16 tensor, without widening or sorting it.

    For positive floats the order of the bit patterns is the order of the values, so one
    count over the 2^16 patterns is the sorted sample. Returns None when ``x`` is not a
    bfloat16 tensor, or holds NaN, infinities, zeros, negative values under
    ``values="magnitudes"``, or fewer than two distinct magnitudes: then
    :func:`check_sample` must run, to raise its message or apply an ``omit`` option.

    Examples
    --------
    >>> import torch
    >>> t = torch.tensor([0.5, -2.0, 2.0, 0.5, 0.5], dtype=torch.bfloat16)
    >>> counted = bfloat16_magnitude_counts(t, "weights")
    >>> counted.values.tolist(), counted.counts.tolist(), counted.n
    ([0.5, 2.0], [3, 2], 5)
    >>> bfloat16_magnitude_counts(t, "magnitudes") is None  # a negative value: check_sample
    True
    """
    if not (type(x).__module__.startswith("torch") and str(x.dtype) == "torch.bfloat16"):
        return None
    import torch

    bits = x.detach().cpu().contiguous().view(torch.int16).numpy().view(np.uint16).reshape(-1)
    counts = count_patterns16(bits)
    positive, negative = counts[:_BF16_SIGN], counts[_BF16_SIGN:]
    if positive[0] or negative[0] or positive[_BF16_INF:].any() or negative[_BF16_INF:].any():
        return None
    if values == "magnitudes":
        if negative.any():
            return None
        magnitude = positive
    else:
        magnitude = positive + negative
    present = np.flatnonzero(magnitude)
    if present.size < 2:
        return None
    widened = (present.astype(np.uint32) << np.uint32(16)).view(np.float32)
    return PatternCounts(values=widened, counts=magnitude[present], n=int(bits.size))


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

    Notes
    -----
    Clean input costs two reductions (``min`` and ``max``: a NaN propagates into both);
    only input that fails them is counted value by value for the message or the omission.

    Examples
    --------
    >>> import numpy as np
    >>> sample = check_sample(np.array([-0.5, 0.0, 2.0, np.nan]), values="weights",
    ...                       nonfinite="omit", zeros="omit")
    >>> sample.data.tolist(), sample.n, sample.n_omitted
    ([0.5, 2.0], 4, {'nonfinite': 1, 'zeros': 1})
    >>> check_sample(np.array([1.0, -2.0, 3.0]))
    Traceback (most recent call last):
    ...
    ValueError: `x` has 1 negative values out of 3; magnitudes are expected (pass values='weights' to fit |x|)
    """
    check_policy(values, nonfinite, zeros)
    if isinstance(x, CheckedSample):
        return _from_checked(x, values, nonfinite, zeros, name)
    from_bfloat16 = (type(x).__module__.startswith("torch") and str(x.dtype) == "torch.bfloat16") or (
        isinstance(x, np.ndarray) and x.dtype == BFLOAT16)
    array = to_numpy(x, name).reshape(-1)
    n = int(array.size)
    if n == 0:
        raise ValueError(f"`{name}` is empty; a Weibull fit needs at least {min_size} values")
    # Fast path: min and max of the magnitudes prove "finite and positive" for the whole
    # array; a NaN propagates into both, so the comparisons are then False and the careful
    # path below counts and reports it.
    candidate = array if values == "magnitudes" else np.abs(array)
    low, high = candidate.min(), candidate.max()
    omitted = {"nonfinite": 0, "zeros": 0}
    owned = candidate is not array
    clean = bool(low > 0) and bool(high < np.inf)
    if clean:
        array = candidate
    else:
        array, omitted, owned = _apply_policy(array, name, n, values, nonfinite, zeros)
        if array.size:
            low, high = array.min(), array.max()
    if array.size < min_size:
        raise ValueError(
            f"`{name}` has {array.size} usable values out of {n}; at least {min_size} are needed"
        )
    if low == high:
        raise ValueError(
            f"`{name}` is constant (all {array.size} values equal {float(low)!r}); "
            "a Weibull shape cannot be estimated"
        )
    return Sample(data=array, n=n, n_omitted=omitted, owned=owned, from_bfloat16=from_bfloat16)


#: Container dtype of a checked sample -> dtype of the array the old estimators get.
_LEGACY_DTYPES = {"bfloat16": np.float32, "float16": np.float16, "float32": np.float32, "float64": np.float64}


def _from_checked(sample: CheckedSample, values: str, nonfinite: str, zeros: str, name: str) -> Sample:
    """Bridge: a :class:`weibull_stats.Sample` as the old ``Sample`` (its policy must match).

    Until every estimator takes the new sample, the old code paths get the magnitudes in
    the container dtype they would have seen: a raw sample's magnitudes (not owned, since a
    sample may be shared), a counts sample expanded in ascending order (bfloat16 as exact
    float32 with ``from_bfloat16`` set, as for a torch bfloat16 tensor).
    """
    as_sample(sample, values=values, nonfinite=nonfinite, zeros=zeros, name=name)  # the policy check
    if sample.magnitudes is not None:
        data, owned = sample.magnitudes, False
    else:
        assert sample.distinct is not None and sample.counts is not None
        data, owned = np.repeat(sample.distinct.astype(_LEGACY_DTYPES[sample.dtype]), sample.counts), True
    omitted = {"nonfinite": int(sample.n_omitted["nonfinite"]), "zeros": int(sample.n_omitted["zeros"])}
    return Sample(data=data, n=sample.n, n_omitted=omitted, owned=owned,
                  from_bfloat16=sample.dtype == "bfloat16")


def _apply_policy(
    array: np.ndarray, name: str, n: int, values: str, nonfinite: str, zeros: str
) -> tuple[np.ndarray, dict[str, int], bool]:
    """The careful path of :func:`check_sample`: count, then raise or omit, then ``|x|``."""
    omitted = {"nonfinite": 0, "zeros": 0}
    owned = False
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
        owned = True
        omitted["nonfinite"] = n_bad

    if values == "weights":
        array = np.abs(array)
        owned = True
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
        owned = True
        omitted["zeros"] = n_zero
    return array, omitted, owned


def check_trim(trim: Any) -> tuple[float, float]:
    """Validate a ``(low, high)`` window of probabilities, ``0 <= low < high <= 1``.

    Examples
    --------
    >>> check_trim([0.1, 0.9])
    (0.1, 0.9)
    """
    try:
        low, high = (float(v) for v in trim)
    except (TypeError, ValueError):
        raise ValueError(f"`trim` must be a pair (low, high) of probabilities; got {trim!r}") from None
    if not (0.0 <= low < high <= 1.0):
        raise ValueError(f"`trim` must satisfy 0 <= low < high <= 1; got ({low}, {high})")
    return low, high
