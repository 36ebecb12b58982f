"""Sorted uniforms from exponential spacings: ordered samples and resamples without a sort.

The order statistics of ``n`` independent uniforms are normalised partial sums of ``n + 1``
independent standard exponentials, ``U_(r) = S_r / S_{n+1}``, ``S_r = E_1 + ... + E_r``
(Rényi's representation). So

* an ordered sample of a law is its quantile function at sorted uniforms: for the Weibull
  law ``Q(U) = scale (-ln(1 - U))^(1/shape)``, with ``1 - U_(r) = (S_{n+1} - S_r) / S_{n+1}``
  taken from the sums of the *upper* spacings where ``U >= 1/2``, so that ``1 - U`` keeps full
  precision (:func:`sorted_uniform_sums`);
* a nonparametric resample's ``r``-th order statistic is ``x_(1 + floor(n U_(r)))``, and only
  the ranks a statistic reads need drawing: the gap ``S_{r'} - S_r`` between two of them is one
  ``Gamma(r' - r)`` variable (:func:`spacing_gaps`, :func:`uniforms_from_gaps`).
"""

from __future__ import annotations

import numpy as np


def sorted_uniform_sums(generator: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, float]:
    """``(head, tail, total)`` of ``n + 1`` standard exponentials: ``n`` sorted uniforms as
    ``U_(r) = head[r - 1] / total`` for ``r <= h`` and ``1 - U_(r) = tail[r - h - 1] / total`` for
    ``r > h``, ``h = head.size`` the number of partial sums below half the ``total``.

    Draws ``generator.standard_exponential(n + 1)``, nothing else.

    Examples
    --------
    >>> head, tail, total = sorted_uniform_sums(np.random.default_rng(0), 1000)
    >>> u = np.concatenate([head / total, 1.0 - tail / total])
    >>> u.size, bool(np.all(np.diff(u) >= 0)), bool(head[-1] < total / 2 <= total - tail[0])
    (1000, True, True)
    """
    e = generator.standard_exponential(n + 1)
    head = np.cumsum(e)
    total = float(head[-1])
    h = int(np.searchsorted(head[:n], 0.5 * total))
    return head[:h], np.cumsum(e[:h:-1])[::-1], total


def spacing_gaps(ranks: np.ndarray, n: int) -> np.ndarray:
    """Shapes of the gamma-distributed gaps ``S_{r_1}, S_{r_2} - S_{r_1}, ..., S_{n+1} - S_{r_q}``
    for increasing 1-based ``ranks`` of ``n`` sorted uniforms (float64, ``q + 1`` of them).

    Examples
    --------
    >>> spacing_gaps(np.array([2, 5]), 10).tolist()
    [2.0, 3.0, 6.0]
    """
    return np.diff(np.concatenate([[0], ranks, [n + 1]])).astype(np.float64)


def uniforms_from_gaps(gaps: np.ndarray) -> np.ndarray:
    """The sorted uniforms ``U_(r_j) = S_{r_j} / S_{n+1}`` at the ranks of :func:`spacing_gaps`,
    from drawn gaps along the last axis (one row of gaps per resample).

    Examples
    --------
    >>> uniforms_from_gaps(np.array([[1.0, 1.0, 2.0]])).tolist()
    [[0.25, 0.5]]
    """
    partial = np.cumsum(gaps, axis=-1)
    return partial[..., :-1] / partial[..., -1:]
