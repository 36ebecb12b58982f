"""Seeded replications of the registered estimators, and the simulation confirmation.

Replications draw a ``(rows, n)`` block at once (bounded to about two million values) and
fit each row with the registered estimator itself, so what is validated is exactly what
users call. Half-normal samples are drawn as signed ``N(0, sigma^2)`` weights and fitted
with ``values="weights"``, the way real weight matrices are.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from weibull_stats.core.progress import Ticker
from weibull_stats.estimators.registry import get_estimator
from weibull_stats.validation._common import Z_LIMIT, Check, child_rng, family_z, within
from weibull_stats.validation.anchors import (
    HISTOGRAM_SIGMA,
    default_anchor,
    depends_on_sigma,
    finite_n_bias,
    regular_sigma,
)
from weibull_stats.validation.populations import HALFNORMAL, Population, weibull

#: Largest block of values drawn at once.
BLOCK_VALUES = 1 << 21


def replicate(
    estimator: str,
    population: Population,
    n: int,
    reps: int,
    *,
    rng: np.random.Generator,
    sigma: float = 1.0,
    options: Mapping[str, Any] | None = None,
) -> np.ndarray:
    """``(reps, 2)`` array of fitted ``(shape, scale / sigma)`` on samples of ``sigma * X``.

    Examples
    --------
    >>> from weibull_stats.validation.populations import weibull
    >>> out = replicate("mle", weibull(2.0), 1000, 3, rng=np.random.default_rng(0))
    >>> out.shape
    (3, 2)
    """
    spec = {"estimator": estimator, **dict(options or {})}
    return replicate_many({estimator: spec}, population, n, reps, rng=rng, sigma=sigma)[estimator]


def replicate_many(
    fits: Mapping[str, Mapping[str, Any]],
    population: Population,
    n: int,
    reps: int,
    *,
    rng: np.random.Generator,
    sigma: float = 1.0,
) -> dict[str, np.ndarray]:
    """Fit every ``label -> (estimator name + options)`` on the same samples.

    ``fits`` maps a label to a mapping with key ``"estimator"`` and the estimator options.
    Returns ``label -> (reps, 2)`` arrays of ``(shape, scale / sigma)``.
    """
    out = {label: np.empty((reps, 2)) for label in fits}
    rows = max(1, min(reps, BLOCK_VALUES // max(n, 1)))
    done = 0
    while done < reps:
        m = min(rows, reps - done)
        if population.kind == "halfnormal":
            block = rng.normal(0.0, sigma, (m, n))
        else:
            block = sigma * population.sample(rng, (m, n))
        for label, spec in fits.items():
            options = {k: v for k, v in spec.items() if k != "estimator"}
            if population.kind == "halfnormal":
                options.setdefault("values", "weights")
            fit = get_estimator(spec["estimator"])
            for i in range(m):
                result = fit(block[i], **options)
                out[label][done + i] = (result.shape, result.scale / sigma)
        done += m
    return out


@dataclass(frozen=True, slots=True)
class ConfirmationRow:
    """Mean of seeded replications against the exact limit (plus predicted bias)."""

    estimator: str
    population: str
    sigma: float
    n: int
    reps: int
    anchor_shape: float
    anchor_scale: float
    predicted_bias_shape: float
    predicted_bias_scale: float
    mean_shape: float
    mean_scale: float
    se_shape: float
    se_scale: float
    sd_shape: float
    sd_scale: float

    @property
    def z_shape(self) -> float:
        return (self.mean_shape - self.anchor_shape - self.predicted_bias_shape) / self.se_shape

    @property
    def z_scale(self) -> float:
        return (self.mean_scale - self.anchor_scale - self.predicted_bias_scale) / self.se_scale

    def to_dict(self) -> dict[str, Any]:
        row: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        row["bias_shape"] = self.mean_shape - self.anchor_shape
        row["bias_scale"] = self.mean_scale - self.anchor_scale
        row["z_shape"] = self.z_shape
        row["z_scale"] = self.z_scale
        return row

    def checks(self, prefix: str, z_limit: float = Z_LIMIT) -> list[Check]:
        """Shape and scale checks: mean within ``z_limit`` MC SE of limit + predicted bias."""
        name = f"{prefix}.{self.population}.{self.estimator}.n={self.n}"
        out = []
        for part, mean, anchor, bias, se in (
            ("shape", self.mean_shape, self.anchor_shape, self.predicted_bias_shape, self.se_shape),
            ("scale", self.mean_scale, self.anchor_scale, self.predicted_bias_scale, self.se_scale),
        ):
            detail = (
                f"mean of {self.reps} fits {mean:.6g} vs limit {anchor:.10g}"
                + (f" + predicted bias {bias:.3g}" if bias else "")
                + f"; {z_limit:.3g} MC SE = {z_limit * se:.3g} (z = {(mean - anchor - bias) / se:+.2f})"
            )
            out.append(within(f"{name}.{part}", mean, anchor + bias, z_limit * se, detail))
        return out


def confirm(
    estimator: str,
    population: Population,
    n: int,
    reps: int,
    *,
    seed: int,
    sigma: float = 1.0,
) -> ConfirmationRow:
    """Replicate ``estimator`` on ``sigma * X`` and compare the mean with the exact limit."""
    if depends_on_sigma(estimator):
        # a limit that depends on sigma (histogram mode's fixed bin grid): confirm it where
        # it is continuous in sigma
        sigma = regular_sigma(population, sigma)
    rng = child_rng(seed, "confirm", population.label, estimator, n)
    fits = replicate(estimator, population, n, reps, rng=rng, sigma=sigma)
    shape, scale = default_anchor(estimator, population, sigma)
    bias = finite_n_bias(estimator, population, n) or (0.0, 0.0)
    mean = fits.mean(axis=0)
    sd = fits.std(axis=0, ddof=1)
    se = sd / math.sqrt(reps)
    return ConfirmationRow(
        estimator,
        population.label,
        sigma,
        n,
        reps,
        shape,
        scale,
        bias[0],
        bias[1],
        float(mean[0]),
        float(mean[1]),
        float(se[0]),
        float(se[1]),
        float(sd[0]),
        float(sd[1]),
    )


#: Replications per sample size: quick (gate, ``make test``) and full (committed tables).
QUICK_SIZES: Mapping[int, int] = {1_000: 1000, 10_000: 300, 100_000: 60}
FULL_SIZES: Mapping[int, int] = {1_000: 1000, 10_000: 400, 100_000: 100, 1_000_000: 40}
#: The Weibull law used to confirm recovery of true parameters by simulation.
RECOVERY_POPULATION = weibull(1.5)


def study_work(estimators: Sequence[str], sizes: Mapping[int, int], recovery_n: int = 10_000,
               recovery_reps: int = 60) -> int:
    """The work of :func:`confirmation_study`, in values drawn and fitted."""
    return len(estimators) * (sum(n * reps for n, reps in sizes.items()) + recovery_n * recovery_reps)


def confirmation_study(
    estimators: Sequence[str],
    sizes: Mapping[int, int],
    *,
    seed: int,
    recovery_n: int = 10_000,
    recovery_reps: int = 60,
    ticker: Ticker | None = None,
) -> tuple[list[ConfirmationRow], list[Check]]:
    """Half-normal confirmation at every size and Weibull recovery at ``recovery_n``.

    The checks of the whole study form one family: their limit is :func:`family_z` of the
    number of checks (3.66 standard errors for the 40 checks of the quick run). ``ticker``
    (:mod:`weibull_stats.core.progress`) is told of :func:`study_work` units as each row is done.
    """
    rows: list[ConfirmationRow] = []
    for name in estimators:
        for n, reps in sizes.items():
            rows.append(confirm(name, HALFNORMAL, n, reps, seed=seed, sigma=HISTOGRAM_SIGMA))
            if ticker is not None:
                ticker.update(n * reps)
        rows.append(confirm(name, RECOVERY_POPULATION, recovery_n, recovery_reps, seed=seed))
        if ticker is not None:
            ticker.update(recovery_n * recovery_reps)
    z_limit = family_z(2 * len(rows))
    checks = [c for row in rows for c in row.checks("simulation", z_limit)]
    return rows, checks
