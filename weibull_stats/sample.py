"""The one checked sample every estimator, resampler and test works on.

:func:`as_sample` is called once per public entry point. It applies the bad-input policy,
counts what was omitted, records how the values are stored, and keeps the magnitudes in
one of two forms:

* **counts**: sorted distinct magnitudes (float64) and their multiplicities (int64). Used
  for 16-bit storage (bfloat16 and float16, counted by bit pattern in one O(n) pass, never
  sorted), and for float32 or float64 data whose values all lie on the bfloat16 or float16
  grid (a bf16 model saved in fp32). Every estimator then costs O(distinct values).
* **raw**: the magnitudes as a 1-D float32 or float64 array (any order).

The policy
----------
Estimators fit a Weibull law to *positive* data. By default (``values="magnitudes"``)
the input must already be magnitudes: a negative value is an error that names the count.
Pass ``values="weights"`` to fit the magnitudes ``|w|`` of signed weights. Zeros (which
have no logarithm) and non-finite values are errors unless ``zeros="omit"`` or
``nonfinite="omit"``; masked entries of a :class:`numpy.ma.MaskedArray` are always left
out. Every omission is counted in :attr:`Sample.n_omitted` and in each result.

Storage
-------
``dtype`` is the container the values came in (``"bfloat16"``, ``"float16"``,
``"float32"``, ``"float64"``); ``storage`` is the narrowest of those formats on which every
magnitude lies. Null samples of goodness-of-fit tests and parametric bootstraps are drawn
rounded to ``storage``, so that a test measures the Weibull law and not the rounding.
bfloat16 input is a numpy array of ``ml_dtypes.bfloat16`` (what the checkpoint readers
return, zero-copy) or a ``torch.bfloat16`` tensor.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

import ml_dtypes
import numpy as np

Values = Literal["magnitudes", "weights"]
Policy = Literal["error", "omit"]

VALUES_CHOICES: tuple[str, ...] = ("magnitudes", "weights")
FORMS: tuple[str, ...] = ("auto", "raw", "counts")
POLICY_CHOICES: tuple[str, ...] = ("error", "omit")
#: Names of the policy options, as every estimator takes them.
POLICY_OPTIONS: tuple[str, ...] = ("values", "nonfinite", "zeros")
#: Storage formats, narrowest first.
STORAGES: tuple[str, ...] = ("bfloat16", "float16", "float32", "float64")
BFLOAT16 = np.dtype(ml_dtypes.bfloat16)

#: 16-bit formats: (sign bit, first non-finite magnitude pattern).
_SIGN = 0x8000
_FIRST_NONFINITE = {"bfloat16": 0x7F80, "float16": 0x7C00}
#: Values examined before a full representability check of a wide array.
_PROBE = 4096


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


def check_policy(values: str, nonfinite: str, zeros: str) -> dict[str, str]:
    """Validate the three bad-input options; return them as a dict.

    Examples
    --------
    >>> check_policy("weights", "error", "omit")
    {'values': 'weights', 'nonfinite': 'error', 'zeros': 'omit'}
    """
    return {
        "values": check_choice(values, "values", VALUES_CHOICES),
        "nonfinite": check_choice(nonfinite, "nonfinite", POLICY_CHOICES),
        "zeros": check_choice(zeros, "zeros", POLICY_CHOICES),
    }


@dataclass(frozen=True, slots=True, eq=False)
class Sample:
    """A checked sample of positive magnitudes, with its policy, omissions and storage.

    Build one with :func:`as_sample`; every estimator, :func:`~weibull_stats.bootstrap` and
    :func:`~weibull_stats.goodness_of_fit` accept it in place of the data and then neither
    check nor copy the data again.

    Attributes
    ----------
    n : int
        Values given, before anything was omitted.
    n_omitted : Mapping
        ``{"masked": int, "nonfinite": int, "zeros": int}``: values left out.
    policy : Mapping
        ``{"values", "nonfinite", "zeros"}`` as checked.
    dtype : str
        Container format of the input: ``"bfloat16"``, ``"float16"``, ``"float32"`` or
        ``"float64"``.
    storage : str
        The narrowest format in :data:`STORAGES` on which every magnitude lies.
    magnitudes : numpy.ndarray or None
        Raw form: the usable magnitudes, 1-D float32 or float64, in input order.
    distinct, counts : numpy.ndarray or None
        Counts form: ascending distinct magnitudes (float64) and their multiplicities
        (int64, all positive).

    Examples
    --------
    >>> import numpy as np
    >>> import weibull_stats as ws
    >>> s = ws.as_sample(np.array([-0.5, 0.0, 2.0, 0.5], dtype=np.float32), values="weights",
    ...                  zeros="omit")
    >>> s.form, s.size, s.distinct.tolist(), s.counts.tolist(), s.storage
    ('counts', 3, [0.5, 2.0], [2, 1], 'bfloat16')
    >>> dict(s.n_omitted)
    {'masked': 0, 'nonfinite': 0, 'zeros': 1}
    """

    n: int
    n_omitted: Mapping[str, int]
    policy: Mapping[str, str]
    dtype: str
    storage: str
    magnitudes: np.ndarray | None = field(default=None, repr=False)
    distinct: np.ndarray | None = field(default=None, repr=False)
    counts: np.ndarray | None = field(default=None, repr=False)
    owned: bool = field(default=False, repr=False)

    @property
    def form(self) -> str:
        """``"counts"`` or ``"raw"``."""
        return "raw" if self.magnitudes is not None else "counts"

    @property
    def size(self) -> int:
        """Usable values (``n`` minus the omitted ones)."""
        if self.magnitudes is not None:
            return int(self.magnitudes.size)
        assert self.counts is not None
        return int(self.counts.sum())

    @property
    def n_distinct(self) -> int | None:
        """Distinct magnitudes of a counts sample; ``None`` for a raw one."""
        return None if self.distinct is None else int(self.distinct.size)

    def sorted_magnitudes(self) -> np.ndarray:
        """All usable magnitudes in ascending order as a new float64 array (O(n) memory)."""
        if self.magnitudes is not None:
            return np.sort(self.magnitudes.astype(np.float64))
        assert self.distinct is not None and self.counts is not None
        return np.repeat(self.distinct, self.counts)

    def __repr__(self) -> str:
        extra = f", distinct={self.n_distinct}" if self.distinct is not None else ""
        return (f"Sample(n={self.n}, size={self.size}, form={self.form!r}{extra}, "
                f"dtype={self.dtype!r}, storage={self.storage!r})")


# ---------------------------------------------------------------------- conversion
def _torch_to_numpy(x: Any) -> np.ndarray:
    import torch  # torch is optional: only a torch tensor brings us here

    tensor = x.detach()
    if tensor.dtype == torch.bfloat16:
        bits = tensor.cpu().contiguous().view(torch.int16).numpy().view(np.uint16)
        return bits.view(BFLOAT16)
    return np.asarray(tensor.cpu().numpy())


def to_array(x: Any, name: str = "x") -> np.ndarray:
    """``x`` as a numpy float array: bfloat16, float16, float32 or float64.

    torch tensors are moved to the CPU (bfloat16 tensors become ``ml_dtypes.bfloat16``
    arrays over the same bits); integer input becomes float64; boolean, complex, string and
    object input is refused with a message naming ``name``. Masked arrays keep their mask.

    Examples
    --------
    >>> import numpy as np
    >>> to_array([1, 2, 3]).dtype, to_array(np.ones(2, dtype=np.float32)).dtype
    (dtype('float64'), dtype('float32'))
    """
    if type(x).__module__.startswith("torch"):
        x = _torch_to_numpy(x)
    if isinstance(x, np.ma.MaskedArray):
        return x
    try:
        array = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"`{name}` could not be converted to a numeric array: {exc}") from None
    if array.dtype == BFLOAT16:
        return array
    if array.dtype.kind in "iu":
        return array.astype(np.float64)
    if array.dtype.kind != "f":
        raise TypeError(f"`{name}` must hold real floating-point numbers; got dtype {array.dtype}")
    if array.dtype.itemsize > 8:
        return array.astype(np.float64)
    return array


def _dtype_name(array: np.ndarray) -> str:
    return "bfloat16" if array.dtype == BFLOAT16 else str(array.dtype)


def count_patterns16(bits: np.ndarray) -> np.ndarray:
    """Counts of each of the 2^16 patterns in a uint16 array, in chunks.

    :func:`numpy.bincount` widens its input to ``intp``; chunking keeps that copy small.

    Examples
    --------
    >>> import numpy as np
    >>> counts = count_patterns16(np.array([3, 3, 65535], dtype=np.uint16))
    >>> counts.size, int(counts[3]), int(counts[65535])
    (65536, 2, 1)
    """
    counts = np.zeros(1 << 16, dtype=np.int64)
    flat = bits.reshape(-1)
    step = 1 << 18
    for start in range(0, flat.size, step):
        counts += np.bincount(flat[start : start + step], minlength=1 << 16)
    return counts


def pattern_values(patterns: np.ndarray, storage: str) -> np.ndarray:
    """float64 values of non-negative 16-bit ``patterns`` in format ``storage``.

    Examples
    --------
    >>> import numpy as np
    >>> pattern_values(np.array([0x3F80, 0x4000]), "bfloat16").tolist()
    [1.0, 2.0]
    """
    bits = np.asarray(patterns, dtype=np.uint16)
    if storage == "bfloat16":
        return (bits.astype(np.uint32) << np.uint32(16)).view(np.float32).astype(np.float64)
    return bits.view(np.float16).astype(np.float64)


def _sixteen_bit_patterns(array: np.ndarray) -> tuple[np.ndarray, str] | None:
    """The uint16 patterns and format of an array whose values all lie on a 16-bit grid."""
    if array.dtype == BFLOAT16:
        return array.view(np.uint16), "bfloat16"
    if array.dtype == np.float16:
        return array.view(np.uint16), "float16"
    flat = array.reshape(-1)
    if array.dtype == np.float64:
        head = flat[:_PROBE]
        with np.errstate(over="ignore"):  # beyond float32's range: not on a narrower grid
            if not np.array_equal(head.astype(np.float32), head, equal_nan=True):
                return None
            narrow = flat.astype(np.float32)
        if not np.array_equal(narrow, flat, equal_nan=True):
            return None
        flat = narrow
    if flat.dtype != np.float32:
        return None
    words = flat.view(np.uint32)
    if not (words[:_PROBE] & np.uint32(0xFFFF)).any() and not (words & np.uint32(0xFFFF)).any():
        return (words >> np.uint32(16)).astype(np.uint16), "bfloat16"
    head = flat[:_PROBE]
    with np.errstate(over="ignore"):
        if not np.array_equal(head.astype(np.float16).astype(np.float32), head, equal_nan=True):
            return None
        half = flat.astype(np.float16)
    if not np.array_equal(half.astype(np.float32), flat, equal_nan=True):
        return None
    return half.view(np.uint16), "float16"


# ---------------------------------------------------------------------- the check
def as_sample(
    x: Any,
    /,
    *,
    values: str = "magnitudes",
    nonfinite: str = "error",
    zeros: str = "error",
    form: str = "auto",
    name: str = "x",
    min_size: int = 2,
) -> Sample:
    """Check ``x`` once into a :class:`Sample` (see the module documentation for the policy).

    Parameters
    ----------
    x : array_like, numpy.ma.MaskedArray, torch.Tensor or Sample
        Any shape (flattened) and float dtype, ``ml_dtypes.bfloat16`` and torch bfloat16
        included. A :class:`Sample` is returned as it is, provided its policy is the one
        asked for.
    values : {"magnitudes", "weights"}, default "magnitudes"
        ``"weights"`` takes ``|x|``; with ``"magnitudes"`` a negative value is an error.
    nonfinite, zeros : {"error", "omit"}, default "error"
        What to do with NaN/inf values and with zeros; omissions are counted.
    form : {"auto", "raw", "counts"}, default "auto"
        ``"auto"`` counts 16-bit storage and data that lie on a 16-bit grid, and keeps other
        data raw; ``"raw"`` never counts; ``"counts"`` always does (distinct values by
        :func:`numpy.unique` where the data are not on a 16-bit grid). Every estimator gives
        the same numbers on either form (to rounding).
    name : str, default "x"
        Argument name used in error messages.
    min_size : int, default 2
        Fewest usable values accepted.

    Returns
    -------
    Sample

    Raises
    ------
    ValueError
        Empty input, NaN/inf values, negative values, zeros, constant data or fewer than
        ``min_size`` usable values; the message names the argument and gives the count.

    Examples
    --------
    >>> import numpy as np
    >>> import weibull_stats as ws
    >>> s = ws.as_sample(np.array([-0.3, 0.0, 2.1, np.nan]), values="weights",
    ...                  nonfinite="omit", zeros="omit")
    >>> s.form, s.magnitudes.tolist(), s.n, dict(s.n_omitted)
    ('raw', [0.3, 2.1], 4, {'masked': 0, 'nonfinite': 1, 'zeros': 1})
    >>> ws.as_sample(np.array([1.0, -2.0, 3.0]))
    Traceback (most recent call last):
    ...
    ValueError: `x` has 1 negative values out of 3; magnitudes are expected (pass values='weights' to fit |x|)
    """
    policy = check_policy(values, nonfinite, zeros)
    check_choice(form, "form", FORMS)
    if isinstance(x, Sample):
        if dict(x.policy) != policy:
            raise ValueError(
                f"`{name}` is a Sample checked with {dict(x.policy)}; it cannot be used with {policy}"
            )
        return x
    array = to_array(x, name)
    n = int(array.size)
    omitted = {"masked": 0, "nonfinite": 0, "zeros": 0}
    if isinstance(array, np.ma.MaskedArray):
        mask = np.ma.getmaskarray(array)
        omitted["masked"] = int(mask.sum())
        array = np.asarray(array.data)[~mask] if omitted["masked"] else np.asarray(array.data)
        array = to_array(array, name)
    if n == 0:
        raise ValueError(f"`{name}` is empty; a Weibull fit needs at least {min_size} values")
    patterns = None if form == "raw" else _sixteen_bit_patterns(array)
    if patterns is not None:
        bits, storage = patterns
        return _counts_sample(bits, storage, _dtype_name(array), n, omitted, policy, name, min_size)
    dtype = _dtype_name(array)
    if form == "raw" and array.dtype.itemsize == 2:
        array = array.astype(np.float32)  # exact: every 16-bit value is a float32
    sample = _raw_sample(array, n, omitted, policy, name, min_size)
    if dtype != sample.dtype:
        sample = Sample(n=sample.n, n_omitted=sample.n_omitted, policy=sample.policy, dtype=dtype,
                        storage=dtype, magnitudes=sample.magnitudes, owned=sample.owned)
    if form == "counts":
        assert sample.magnitudes is not None
        distinct, counts = np.unique(sample.magnitudes.astype(np.float64), return_counts=True)
        return Sample(n=sample.n, n_omitted=sample.n_omitted, policy=sample.policy, dtype=sample.dtype,
                      storage=sample.storage, distinct=distinct, counts=counts.astype(np.int64))
    return sample


def _too_few(name: str, size: int, n: int, min_size: int) -> ValueError:
    return ValueError(f"`{name}` has {size} usable values out of {n}; at least {min_size} are needed")


def _constant(name: str, size: int, value: float) -> ValueError:
    return ValueError(
        f"`{name}` is constant (all {size} values equal {value!r}); a Weibull shape cannot be estimated"
    )


def _nonfinite_error(name: str, n_bad: int, n_nan: int, n: int) -> ValueError:
    return ValueError(
        f"`{name}` has {n_bad} non-finite values out of {n} ({n_nan} NaN, {n_bad - n_nan} infinite); "
        "pass nonfinite='omit' to drop them"
    )


def _negative_error(name: str, n_negative: int, n: int) -> ValueError:
    return ValueError(
        f"`{name}` has {n_negative} negative values out of {n}; magnitudes are expected "
        "(pass values='weights' to fit |x|)"
    )


def _zeros_error(name: str, n_zero: int, n: int) -> ValueError:
    return ValueError(
        f"`{name}` has {n_zero} zeros out of {n}; a Weibull fit takes log(x) "
        "(pass zeros='omit' to drop them)"
    )


def _counts_sample(
    bits: np.ndarray, storage: str, dtype: str, n: int, omitted: dict[str, int],
    policy: dict[str, str], name: str, min_size: int,
) -> Sample:
    """Counts form from 16-bit patterns: one pass, policy applied on the pattern counts."""
    patterns = count_patterns16(bits)
    positive, negative = patterns[:_SIGN], patterns[_SIGN:]
    first_bad = _FIRST_NONFINITE[storage]
    n_nonfinite = int(positive[first_bad:].sum() + negative[first_bad:].sum())
    if n_nonfinite:
        if policy["nonfinite"] == "error":
            nan_first = first_bad + 1
            n_nan = int(positive[nan_first:].sum() + negative[nan_first:].sum())
            raise _nonfinite_error(name, n_nonfinite, n_nan, n)
        omitted["nonfinite"] = n_nonfinite
    positive, negative = positive[:first_bad].copy(), negative[:first_bad].copy()
    n_negative = int(negative[1:].sum())
    if n_negative and policy["values"] == "magnitudes":
        raise _negative_error(name, n_negative, n)
    magnitude = positive + negative
    n_zero = int(magnitude[0])
    if n_zero:
        if policy["zeros"] == "error":
            raise _zeros_error(name, n_zero, n)
        omitted["zeros"] = n_zero
    magnitude[0] = 0
    present = np.flatnonzero(magnitude)
    counts = magnitude[present]
    size = int(counts.sum())
    if size < min_size:
        raise _too_few(name, size, n, min_size)
    distinct = pattern_values(present, storage)
    if distinct.size == 1:
        raise _constant(name, size, float(distinct[0]))
    return Sample(n=n, n_omitted=MappingProxyType(omitted), policy=MappingProxyType(policy), dtype=dtype,
                  storage=storage, distinct=distinct, counts=counts)


def _raw_sample(
    array: np.ndarray, n: int, omitted: dict[str, int], policy: dict[str, str], name: str, min_size: int
) -> Sample:
    """Raw form: two reductions prove a clean array; only a failing one is counted value by value."""
    flat = array.reshape(-1)
    candidate = flat if policy["values"] == "magnitudes" else np.abs(flat)
    owned = candidate is not flat
    low, high = (candidate.min(), candidate.max()) if candidate.size else (0.0, 0.0)
    if not (bool(low > 0) and bool(high < np.inf)):
        candidate, owned = _apply_policy(flat, name, n, omitted, policy)
        if candidate.size:
            low, high = candidate.min(), candidate.max()
    if candidate.size < min_size:
        raise _too_few(name, int(candidate.size), n, min_size)
    if low == high:
        raise _constant(name, int(candidate.size), float(low))
    return Sample(n=n, n_omitted=MappingProxyType(omitted), policy=MappingProxyType(policy),
                  dtype=_dtype_name(array), storage=_raw_storage(candidate), magnitudes=candidate,
                  owned=owned)


def _raw_storage(magnitudes: np.ndarray) -> str:
    """``"float32"`` for float64 magnitudes that all lie on the float32 grid, else the dtype."""
    if magnitudes.dtype == np.float64:
        head = magnitudes[:_PROBE]
        with np.errstate(over="ignore"):  # beyond float32's range: not on the float32 grid
            if np.array_equal(head.astype(np.float32), head) and np.array_equal(
                magnitudes.astype(np.float32), magnitudes
            ):
                return "float32"
    return _dtype_name(magnitudes)


def _apply_policy(
    array: np.ndarray, name: str, n: int, omitted: dict[str, int], policy: dict[str, str]
) -> tuple[np.ndarray, bool]:
    """The careful path of :func:`as_sample`: count, then raise or omit, then ``|x|``."""
    owned = False
    finite = np.isfinite(array)
    n_bad = int(array.size - np.count_nonzero(finite))
    if n_bad:
        if policy["nonfinite"] == "error":
            raise _nonfinite_error(name, n_bad, int(np.count_nonzero(np.isnan(array))), n)
        array = array[finite]
        owned = True
        omitted["nonfinite"] = n_bad
    if policy["values"] == "weights":
        array = np.abs(array)
        owned = True
    else:
        n_negative = int(np.count_nonzero(array < 0))
        if n_negative:
            raise _negative_error(name, n_negative, n)
    n_zero = int(array.size - np.count_nonzero(array))
    if n_zero:
        if policy["zeros"] == "error":
            raise _zeros_error(name, n_zero, n)
        array = array[array != 0]
        owned = True
        omitted["zeros"] = n_zero
    return array, owned


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
