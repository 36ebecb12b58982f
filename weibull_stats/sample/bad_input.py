"""The bad-input policy, applied once to counts of bad values: one rule and one wording for
numpy arrays, 16-bit pattern counts and torch tensors (:func:`~weibull_stats.as_sample`).

Order of the checks, everywhere: non-finite values (an error, or omitted and counted), then
negative values (an error when ``values="magnitudes"``), then zeros (an error, or omitted and
counted). Each message names the argument, the count and the option that changes it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


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
    """The careful path of :func:`~weibull_stats.sample.checked.as_sample` on a numpy array: count
    the bad values, raise or omit them (:func:`apply_policy`), then ``|x|``; also whether the
    result is a new array."""
    finite = np.isfinite(array)
    n_bad = int(array.size - np.count_nonzero(finite))
    weights = policy["values"] == "weights"
    drop_nonfinite, drop_zeros = apply_policy(
        name, n, policy, omitted, nonfinite=n_bad, nan=int(np.count_nonzero(np.isnan(array))) if n_bad else 0,
        negative=0 if weights else int(np.count_nonzero(finite & (array < 0))),
        zeros=int(np.count_nonzero(array == 0)))
    if drop_nonfinite:
        array = array[finite]
    if weights:
        array = np.abs(array)
    if drop_zeros:
        array = array[array != 0]
    owned = drop_nonfinite or weights or drop_zeros
    return array, owned



__all__ = ["PolicyError", "apply_policy", "careful_magnitudes", "constant", "too_few"]
