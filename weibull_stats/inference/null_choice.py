"""Which null law a goodness-of-fit p-value comes from, and computing it.

* ``"per-sample"``: the refitting Monte Carlo from the sample's own fitted law, drawn as the
  data are stored (:mod:`weibull_stats.inference.nulls`); always valid, ``m`` full
  simulations per sample.
* ``"shared"``: the same Monte Carlo from the standard law, once per key and cached
  (:mod:`weibull_stats.inference.shared_null`); for estimators that declare themselves
  equivariant, on float32 or float64 data.
* ``"asymptotic"``: the limiting law of A² or W² (:mod:`weibull_stats.inference.asymptotic_null`);
  for estimators that declare an influence function, on float32 or float64 data.
* ``"auto"``: asymptotic from :data:`ASYMPTOTIC_FROM` values (A², W²), shared below it,
  per-sample for 16-bit data (whose storage grid is not scale-equivariant; their counts
  path already costs O(cells) per sample) and for estimators that are not equivariant.

:data:`ASYMPTOTIC_FROM` is where the size study (``validate --full``, the
``gof_null_size`` study) finds the asymptotic null's rejection rates within Monte Carlo error
of the nominal levels for every equivariant estimator.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from weibull_stats.core.options import check_choice
from weibull_stats.core.progress import ProgressOption
from weibull_stats.estimators._core import Estimator
from weibull_stats.inference.asymptotic_null import ASYMPTOTIC_STATISTICS, asymptotic_pvalue
from weibull_stats.inference.engine import null_function, run_blocks
from weibull_stats.inference.nulls import NullModel
from weibull_stats.inference.shared_null import shared_null
from weibull_stats.sample.checked import Sample

NULLS: tuple[str, ...] = ("auto", "per-sample", "shared", "asymptotic")
#: Sample size from which ``null="auto"`` takes the asymptotic null (A² and W²).
ASYMPTOTIC_FROM = 100_000
#: Storage formats whose null is drawn raw (the others are 16-bit, drawn as counts).
RAW_STORAGE: tuple[str, ...] = ("float32", "float64")


def choose_null(entry: Estimator, options: Mapping[str, Any], sample: Sample, statistic: str, null: str,
                m: int) -> str:
    """The null kind for this call (``"none"`` when ``m == 0``); a one-line error when the
    asked-for kind does not hold for the estimator, its options or the data's storage."""
    check_choice(null, "null", NULLS)
    raw = sample.storage in RAW_STORAGE
    if null == "shared":
        if not entry.is_equivariant(options):
            raise ValueError(f"null='shared' needs an equivariant estimator; {entry.name!r} with these "
                             "options is not (its fit of s*x**p is not its fit of x transformed); "
                             "use null='per-sample'")
        if not raw:
            raise ValueError(f"null='shared' needs float32 or float64 data; {sample.storage} data are drawn "
                             "as counts on their storage grid (use null='per-sample')")
    if null == "asymptotic":
        if entry.influence is None:
            raise ValueError(f"null='asymptotic' needs an estimator with an influence function; "
                             f"{entry.name!r} declares none (its fixed bins break equivariance); "
                             "use null='per-sample'")
        if statistic not in ASYMPTOTIC_STATISTICS:
            raise ValueError(f"null='asymptotic' is offered for statistic 'ad' or 'cvm', not {statistic!r} "
                             "(the Kolmogorov-Smirnov limit is a supremum); use null='shared'")
        if not raw:
            raise ValueError(f"null='asymptotic' needs float32 or float64 data; {sample.storage} data are "
                             "rounded to a grid whose ties the limit ignores (use null='per-sample')")
    if m == 0:
        return "none"
    if null != "auto":
        return null
    if not raw:
        return "per-sample"
    if entry.influence is not None and statistic in ASYMPTOTIC_STATISTICS and sample.size >= ASYMPTOTIC_FROM:
        return "asymptotic"
    return "shared" if entry.is_equivariant(options) else "per-sample"


def shares_null(entry: Estimator, options: Mapping[str, Any], sample: Sample, statistic: str, m: int,
                null: str = "auto") -> bool:
    """Whether goodness of fit of ``sample`` with ``entry`` and ``options`` (as the user gives
    them, policy included) takes the shared null, whose key holds the seed (a caller testing
    many samples passes one seed to share it)."""
    _, own = entry.split(options)
    return choose_null(entry, own, sample, statistic, null, m) == "shared"


@dataclass(frozen=True, slots=True)
class FoundNull:
    """The p-value and what it came from."""

    kind: str
    pvalue: float | None
    statistics: np.ndarray
    samples: int
    source: str | None = None


def _simulate(entry: Estimator, model: NullModel, options: Mapping[str, Any], statistic: str, m: int, *,
              seed: int, workers: int, progress: ProgressOption) -> np.ndarray:
    function = null_function(entry, model, options, statistic)
    null = run_blocks(function, m, seed=seed, purpose="null", workers=workers, progress=progress,
                      description=f"goodness of fit {entry.name}")
    bad = int(np.count_nonzero(~np.isfinite(null)))
    if bad:
        beyond = sum(model.excluded.values())
        where = (f"; the law puts {beyond:.2g} of its mass beyond the positive finite "
                 f"{model.storage} values" if beyond > 1e-3 else "")
        raise ValueError(
            f"{bad} of {m} Monte Carlo samples could not be refitted by {entry.name!r}: its fit of a "
            f"sample drawn from the law (shape {model.shape:.4g}, scale {model.scale:.4g}) was "
            f"undefined (too few distinct values in its fitted range, or no convergence){where}; "
            "the null distribution is incomplete"
        )
    return null


def null_statistics(kind: str, entry: Estimator, options: Mapping[str, Any], model: NullModel, statistic: str,
                    observed: float, m: int, *, seed: int, workers: int, progress: ProgressOption,
                    cache: Any = None) -> FoundNull:
    """The p-value of ``observed`` under the null ``kind`` (see the module documentation);
    ``model`` is the per-sample null model (the fitted law, the data's size and storage)."""
    if kind == "none":
        return FoundNull(kind, None, np.empty(0), 0)
    if kind == "asymptotic":
        return FoundNull(kind, asymptotic_pvalue(entry, options, statistic, observed), np.empty(0), 0)
    source = None
    if kind == "shared":
        standard = NullModel.of(model.storage, model.size, 1.0, 1.0)

        def simulate() -> np.ndarray:
            return _simulate(entry, standard, options, statistic, m, seed=seed, workers=workers,
                             progress=progress)

        found = shared_null(entry, options, model.size, model.storage, statistic, m, seed, simulate,
                            cache=cache)
        null, source = found.statistics, found.source
    else:
        null = _simulate(entry, model, options, statistic, m, seed=seed, workers=workers, progress=progress)
        null.flags.writeable = False
    pvalue = (int(np.count_nonzero(null >= observed)) + 1) / (m + 1)
    return FoundNull(kind, pvalue, null, m, source)
