"""The bad-input policy, applied once to counts of bad values: one rule and one wording for
numpy arrays, 16-bit pattern counts and torch tensors (:func:`~weibull_stats.as_sample`).

Order of the checks, everywhere: non-finite values (an error, or omitted and counted), then
negative values (an error when ``values="magnitudes"``), then zeros (an error, or omitted and
counted). Each message names the argument, the count and the option that changes it.
"""

from __future__ import annotations

from collections.abc import Mapping


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
    ValueError: `x` has 1 non-finite values out of 10 (1 NaN, 0 infinite); pass nonfinite='omit' to drop them
    """
    if nonfinite:
        if policy["nonfinite"] == "error":
            raise ValueError(f"`{name}` has {nonfinite} non-finite values out of {n} ({nan} NaN, "
                             f"{nonfinite - nan} infinite); pass nonfinite='omit' to drop them")
        omitted["nonfinite"] = nonfinite
    if negative and policy["values"] == "magnitudes":
        raise ValueError(f"`{name}` has {negative} negative values out of {n}; magnitudes are expected "
                         "(pass values='weights' to fit |x|)")
    if zeros:
        if policy["zeros"] == "error":
            raise ValueError(f"`{name}` has {zeros} zeros out of {n}; a Weibull fit takes log(x) "
                             "(pass zeros='omit' to drop them)")
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


__all__ = ["apply_policy", "constant", "too_few"]
