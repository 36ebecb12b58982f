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
Estimators fit a Weibull law to *positive* data. The defaults
(:data:`~weibull_stats.core.options.DEFAULT_POLICY`, every entry point's) are what
researchers pass: ``values="weights"`` fits the magnitudes ``|w|`` of signed weights
(harmless on data that are magnitudes already), ``zeros="omit"`` leaves zeros (which have no
logarithm) out and counts them, ``nonfinite="error"`` refuses NaN and infinite values. With
``values="magnitudes"`` a negative value is an error that names the count; with
``zeros="error"`` so is a zero; ``nonfinite="omit"`` leaves non-finite values out. Masked
entries of a :class:`numpy.ma.MaskedArray` are always left out. Every omission is counted in
:attr:`Sample.n_omitted` and in each result.

Storage
-------
``dtype`` is the container the values came in (``"bfloat16"``, ``"float16"``,
``"float32"``, ``"float64"``); ``storage`` is the narrowest of those formats on which every
magnitude lies. Null samples of goodness-of-fit tests and parametric bootstraps are drawn
rounded to ``storage``, so that a test measures the Weibull law and not the rounding.
bfloat16 input is a numpy array of ``ml_dtypes.bfloat16`` (what the checkpoint readers
return, zero-copy) or a ``torch.bfloat16`` tensor.

torch tensors
-------------
A tensor (any float dtype, device and strides) gives the sample of the same values as a
numpy array, with its O(n) passes on its own device (:mod:`weibull_stats.sample.tensors`): the
16-bit grid test and pattern counts, or the bad-value census and omissions of raw data.
Only the pattern counts, or the usable raw magnitudes, come back to the CPU.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

import numpy as np

from weibull_stats.core.kernels import count_patterns16
from weibull_stats.core.options import (
    DEFAULT_POLICY,
    check_choice,
    check_policy,
    no_omissions,
)
from weibull_stats.sample.bad_input import apply_policy, careful_magnitudes, constant, too_few
from weibull_stats.sample.storage import (
    FIRST_NONFINITE,
    SIGN,
    dtype_name,
    pattern_values,
    raw_storage,
    sixteen_bit_patterns,
    to_array,
)
from weibull_stats.sample.tensors import (
    census,
    float_tensor,
    is_clean,
    is_tensor,
    pattern_counts,
    sixteen_bit_words,
    tensor_dtype_name,
    tensor_magnitudes,
    value_range,
)

Values = Literal["magnitudes", "weights"]
Policy = Literal["error", "omit"]

__all__ = ["FORMS", "POLICY_OPTIONS", "Sample", "as_sample", "counts_sample"]

FORMS: tuple[str, ...] = ("auto", "raw", "counts")
#: Names of the policy options, as every estimator takes them.
POLICY_OPTIONS: tuple[str, ...] = tuple(DEFAULT_POLICY)

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
        Raw form: the usable magnitudes, 1-D float32 or float64, in input order (ascending
        where ``ordered``).
    distinct, counts : numpy.ndarray or None
        Counts form: ascending distinct magnitudes (float64) and their multiplicities
        (int64, all positive).
    low, high : float
        The smallest and largest usable magnitude: what the check found on its way (no pass
        of its own); with ``n`` and ``n_omitted`` a result records them, so that data given
        again can be checked to be the fitted data (NaN where not known).
    ordered : bool
        Raw form: the magnitudes are ascending (a caller sorted them, as goodness of fit does),
        so that an estimator skips its own sort or selection.

    Examples
    --------
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
    low: float = field(default=float("nan"), repr=False)
    high: float = field(default=float("nan"), repr=False)
    ordered: bool = field(default=False, repr=False)

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


# ---------------------------------------------------------------------- the check
def as_sample(
    x: Any,
    /,
    *,
    values: str = DEFAULT_POLICY["values"],
    nonfinite: str = DEFAULT_POLICY["nonfinite"],
    zeros: str = DEFAULT_POLICY["zeros"],
    form: str = "auto",
    name: str = "x",
    min_size: int = 2,
) -> Sample:
    """Check ``x`` once into a :class:`Sample` (see the module documentation for the policy).

    Parameters
    ----------
    x : array_like, numpy.ma.MaskedArray, torch.Tensor or Sample
        Any shape (flattened) and float dtype, ``ml_dtypes.bfloat16`` and torch bfloat16
        included. A :class:`Sample` is returned as it is: it carries its own policy, so
        the policy arguments may be left at their defaults; given otherwise, they must
        equal the sample's.
    values : {"weights", "magnitudes"}, default "weights"
        ``"weights"`` takes ``|x|``; with ``"magnitudes"`` a negative value is an error.
    nonfinite : {"error", "omit"}, default "error"
        What to do with NaN and infinite values; omissions are counted.
    zeros : {"omit", "error"}, default "omit"
        What to do with zeros (no logarithm); omissions are counted.
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
        A ``min_size`` below 1.

    Examples
    --------
    >>> s = ws.as_sample(np.array([-0.3, 0.0, 2.1, np.nan]), values="weights",
    ...                  nonfinite="omit", zeros="omit")
    >>> s.form, s.magnitudes.tolist(), s.n, dict(s.n_omitted)
    ('raw', [0.3, 2.1], 4, {'masked': 0, 'nonfinite': 1, 'zeros': 1})
    >>> ws.as_sample(np.array([1.0, -2.0, 3.0]), values="magnitudes")
    Traceback (most recent call last):
    ...
    weibull_stats.sample.bad_input.PolicyError: `x` has 1 negative values out of 3; magnitudes are expected
    (pass values='weights' to fit |x|)
    """
    policy = check_policy(values, nonfinite, zeros)
    check_choice(form, "form", FORMS)
    if isinstance(min_size, bool) or not isinstance(min_size, int | np.integer) or min_size < 1:
        raise ValueError(f"`min_size` must be an int >= 1; got {min_size!r}")
    if isinstance(x, Sample):
        # a Sample carries its policy: the default arguments take it as it is, other
        # arguments must agree with it
        if dict(x.policy) != policy and policy != dict(DEFAULT_POLICY):
            raise ValueError(
                f"`{name}` is a Sample checked with {dict(x.policy)}; it cannot be used with {policy}"
            )
        return x
    if is_tensor(x):
        return _tensor_sample(x, policy, form, name, min_size)
    array = to_array(x, name)
    n = int(array.size)
    omitted = no_omissions()
    if isinstance(array, np.ma.MaskedArray):
        mask = np.ma.getmaskarray(array)
        omitted["masked"] = int(mask.sum())
        array = np.asarray(array.data)[~mask] if omitted["masked"] else np.asarray(array.data)
        array = to_array(array, name)
    if n == 0:
        raise ValueError(f"`{name}` is empty; a Weibull fit needs at least {min_size} values")
    patterns = None if form == "raw" else sixteen_bit_patterns(array)
    if patterns is not None:
        bits, storage = patterns
        return counts_sample(count_patterns16(bits), storage, dtype_name(array), n, omitted, policy, name,
                              min_size)
    dtype = dtype_name(array)
    if form == "raw" and array.dtype.itemsize == 2:
        array = array.astype(np.float32)  # exact: every 16-bit value is a float32
    sample = _raw_sample(array, n, omitted, policy, name, min_size)
    if dtype != sample.dtype:
        sample = Sample(n=sample.n, n_omitted=sample.n_omitted, policy=sample.policy, dtype=dtype,
                        storage=dtype, magnitudes=sample.magnitudes, owned=sample.owned, low=sample.low,
                        high=sample.high)
    if form == "counts":
        assert sample.magnitudes is not None
        distinct, counts = np.unique(sample.magnitudes.astype(np.float64), return_counts=True)
        return Sample(n=sample.n, n_omitted=sample.n_omitted, policy=sample.policy, dtype=sample.dtype,
                      storage=sample.storage, distinct=distinct, counts=counts.astype(np.int64),
                      low=sample.low, high=sample.high)
    return sample


def counts_sample(
    patterns: np.ndarray, storage: str, dtype: str, n: int, omitted: dict[str, int],
    policy: dict[str, str], name: str, min_size: int,
) -> Sample:
    """Counts form from the counts of the 2^16 patterns: the policy applied on the counts."""
    positive, negative = patterns[:SIGN], patterns[SIGN:]
    first_bad = FIRST_NONFINITE[storage]
    n_nonfinite = int(positive[first_bad:].sum() + negative[first_bad:].sum())
    n_nan = int(positive[first_bad + 1:].sum() + negative[first_bad + 1:].sum())
    positive, negative = positive[:first_bad].copy(), negative[:first_bad].copy()
    magnitude = positive + negative
    apply_policy(name, n, policy, omitted, nonfinite=n_nonfinite, nan=n_nan, negative=int(negative[1:].sum()),
                 zeros=int(magnitude[0]))
    magnitude[0] = 0
    present = np.flatnonzero(magnitude)
    counts = magnitude[present]
    size = int(counts.sum())
    if size < min_size:
        raise too_few(name, size, n, min_size)
    distinct = pattern_values(present, storage)
    if distinct.size == 1:
        raise constant(name, size, float(distinct[0]))
    return Sample(n=n, n_omitted=MappingProxyType(omitted), policy=MappingProxyType(policy), dtype=dtype,
                  storage=storage, distinct=distinct, counts=counts, low=float(distinct[0]),
                  high=float(distinct[-1]))


def _raw_sample(
    array: np.ndarray, n: int, omitted: dict[str, int], policy: dict[str, str], name: str, min_size: int
) -> Sample:
    """Raw form: two reductions prove an array of positive values clean; signed weights and bad
    values take one compiled census (:func:`~weibull_stats.sample.bad_input.careful_magnitudes`)."""
    flat = array.reshape(-1)
    low = flat.min() if flat.size else 0.0
    # weights that are all positive are their own magnitudes: no |x| copy, so the default
    # policy costs nothing on magnitudes; signed weights go to the careful path, whose one
    # compiled census decides between numpy's |x| and a compacting pass
    candidate, owned = flat, False
    high = candidate.max() if policy["values"] == "magnitudes" or bool(low > 0) else np.nan
    if not (bool(low > 0) and bool(high < np.inf)):
        candidate, owned = careful_magnitudes(flat, name, n, omitted, policy)
        if candidate.size:
            low, high = candidate.min(), candidate.max()
    if candidate.size < min_size:
        raise too_few(name, int(candidate.size), n, min_size)
    if low == high:
        raise constant(name, int(candidate.size), float(low))
    return Sample(n=n, n_omitted=MappingProxyType(omitted), policy=MappingProxyType(policy),
                  dtype=dtype_name(array), storage=raw_storage(candidate), magnitudes=candidate,
                  owned=owned, low=float(low), high=float(high))


def _tensor_sample(x: Any, policy: dict[str, str], form: str, name: str, min_size: int) -> Sample:
    """:func:`as_sample` of a torch tensor: the O(n) passes on its device
    (:mod:`weibull_stats.sample.tensors`), the policy and the sample as for a numpy array."""
    tensor = float_tensor(x, name)
    n = int(tensor.numel())
    if n == 0:
        raise ValueError(f"`{name}` is empty; a Weibull fit needs at least {min_size} values")
    dtype = tensor_dtype_name(tensor)
    omitted = no_omissions()
    found = None if form == "raw" else sixteen_bit_words(tensor)
    if found is not None:
        words, storage = found
        return counts_sample(pattern_counts(words), storage, dtype, n, omitted, policy, name, min_size)
    flat = tensor.reshape(-1)
    if flat.element_size() == 2:
        flat = flat.float()  # exact: every 16-bit value is a float32
    weights = policy["values"] == "weights"
    # weights that are all positive are their own magnitudes: no |x| copy
    absolute = weights and not bool(flat.min() > 0)
    candidate = flat.abs() if absolute else flat  # the census of |x| counts what that of x does
    bounds = value_range(candidate)
    drop_nonfinite = drop_zeros = False
    if not is_clean(bounds):
        bad = census(candidate)
        drop_nonfinite, drop_zeros = apply_policy(
            name, n, policy, omitted, nonfinite=bad.nonfinite, nan=bad.nan,
            negative=0 if weights else bad.negative, zeros=bad.zeros)
    kept = tensor_magnitudes(candidate, drop_nonfinite=drop_nonfinite, drop_zeros=drop_zeros, source=flat,
                             bounds=bounds)
    size = int(kept.values.size)
    if size < min_size:
        raise too_few(name, size, n, min_size)
    if kept.low == kept.high:
        raise constant(name, size, kept.low)
    storage = dtype if dtype != dtype_name(kept.values) else kept.storage
    if form == "counts":
        distinct, counts = np.unique(kept.values.astype(np.float64), return_counts=True)
        return Sample(n=n, n_omitted=MappingProxyType(omitted), policy=MappingProxyType(policy), dtype=dtype,
                      storage=storage, distinct=distinct, counts=counts.astype(np.int64), low=kept.low,
                      high=kept.high)
    return Sample(n=n, n_omitted=MappingProxyType(omitted), policy=MappingProxyType(policy), dtype=dtype,
                  storage=storage, magnitudes=kept.values, owned=kept.owned, low=kept.low, high=kept.high)
