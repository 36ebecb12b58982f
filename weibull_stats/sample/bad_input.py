"""The bad-input policy, applied once to counts of bad values: one rule and one wording for
numpy arrays, 16-bit pattern counts and torch tensors (:func:`~weibull_stats.as_sample`).

Order of the checks, everywhere: non-finite values (an error, or omitted and counted), then
negative values (an error when ``values="magnitudes"``), then zeros (an error, or omitted and
counted). Each message names the argument, the count and the option that changes it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from weibull_stats.core.kernels import compact_magnitudes, float_census


class PolicyError(ValueError):
    """Bad values the input policy refuses; the message names the argument, the count and the
    option that changes it (in Python words: ``pass nonfinite='omit' to drop them``).

    The parts are kept so that a caller with other words can say the same: the scan names
    its flag and its keyword (:func:`weibull_stats.scanning.tensor.fit_tensor`), the command line
    rewrites the option into its flag.

    Attributes
    ----------
    name : str
        The argument.
    finding : str
        What was found, after the argument's name (``"has 3 zeros out of 10; ..."``).
    option, value : str
        The policy option and the value that accepts the data (``"zeros"``, ``"omit"``).
    effect : str
        What that value does (``"drop them"``).
    """

    def __init__(self, name: str, finding: str, option: str, value: str, effect: str, *,
                 wrap: bool) -> None:
        advice = f"pass {option}={value!r} to {effect}"
        super().__init__(f"`{name}` {finding}" + (f" ({advice})" if wrap else f"; {advice}"))
        self.name, self.finding, self.option, self.value, self.effect = name, finding, option, value, effect


def apply_policy(name: str, n: int, policy: Mapping[str, str], omitted: dict[str, int], *, nonfinite: int,
                 nan: int, negative: int, zeros: int) -> tuple[bool, bool]:
    """Raise the message of the first bad value the policy refuses, or record the omissions.

    ``nonfinite`` and ``nan`` count the non-finite values and the NaN among them, ``negative``
    the finite negative values, ``zeros`` the zeros, all out of ``n``. Returns whether the
    caller drops the non-finite values and the zeros; ``omitted`` gets their counts.

    Examples
    --------
    >>> omitted = {"masked": 0, "nonfinite": 0, "zeros": 0}
    >>> policy = {"values": "weights", "nonfinite": "error", "zeros": "omit"}
    >>> apply_policy("x", 10, policy, omitted, nonfinite=0, nan=0, negative=3, zeros=2), omitted["zeros"]
    ((False, True), 2)
    >>> apply_policy("x", 10, policy, omitted, nonfinite=1, nan=1, negative=0, zeros=0)
    Traceback (most recent call last):
    ...
    weibull_stats.sample.bad_input.PolicyError: `x` has 1 non-finite values out of 10 (1 NaN, 0 infinite);
    pass nonfinite='omit' to drop them
    """
    if nonfinite:
        if policy["nonfinite"] == "error":
            raise PolicyError(name, f"has {nonfinite} non-finite values out of {n} ({nan} NaN, "
                              f"{nonfinite - nan} infinite)", "nonfinite", "omit", "drop them", wrap=False)
        omitted["nonfinite"] = nonfinite
    if negative and policy["values"] == "magnitudes":
        raise PolicyError(name, f"has {negative} negative values out of {n}; magnitudes are expected",
                          "values", "weights", "fit |x|", wrap=True)
    if zeros:
        if policy["zeros"] == "error":
            raise PolicyError(name, f"has {zeros} zeros out of {n}; a Weibull fit takes log(x)", "zeros",
                              "omit", "drop them", wrap=True)
        omitted["zeros"] = zeros
    return bool(nonfinite), bool(zeros)


def too_few(name: str, size: int, n: int, min_size: int) -> ValueError:
    """The error of a sample left with fewer than ``min_size`` values."""
    return ValueError(f"`{name}` has {size} usable values out of {n}; at least {min_size} are needed")


def constant(name: str, size: int, value: float) -> ValueError:
    """The error of a sample whose values are all equal."""
    return ValueError(
        f"`{name}` is constant (all {size} values equal {value!r}); a Weibull shape cannot be estimated"
    )


def careful_magnitudes(
    array: np.ndarray, name: str, n: int, omitted: dict[str, int], policy: dict[str, str]
) -> tuple[np.ndarray, bool]:
    """The careful path of :func:`~weibull_stats.sample.checked.as_sample` on a float32 or
    float64 numpy array: count the bad values, raise or omit them (:func:`apply_policy`), then
    ``|x|``; also whether the result is a new array.

    The counts are one compiled pass (:func:`~weibull_stats.core.kernels.float_census`); the
    magnitudes are numpy's ``|x|`` when nothing is left out, else one compacting pass
    (:func:`~weibull_stats.core.kernels.compact_magnitudes`).
    """
    flat = array.reshape(-1)
    if flat.dtype not in (np.float32, np.float64):
        flat = flat.astype(np.float64)  # pragma: no cover - as_sample passes float32 or float64
    n_bad, n_nan, n_negative, n_zeros = float_census(flat)
    weights = policy["values"] == "weights"
    drop_nonfinite, drop_zeros = apply_policy(
        name, n, policy, omitted, nonfinite=n_bad, nan=n_nan, negative=0 if weights else n_negative,
        zeros=n_zeros)
    if not (drop_nonfinite or weights or drop_zeros):
        return flat, False
    if not (drop_nonfinite or drop_zeros):
        return np.abs(flat), True  # nothing to leave out: numpy's vector |x|
    kept = flat.size - (n_bad if drop_nonfinite else 0) - (n_zeros if drop_zeros else 0)
    return compact_magnitudes(flat, drop_nonfinite=drop_nonfinite, take_abs=weights, drop_zeros=drop_zeros,
                              kept=kept), True


__all__ = ["PolicyError", "apply_policy", "careful_magnitudes", "constant", "too_few"]
