"""One row of a scan: fit, bootstrap and test one checked sample (see :mod:`weibull_stats.scanning`)."""

from __future__ import annotations

import json
import math
from typing import Any

from weibull_stats.bootstrapping import bootstrap
from weibull_stats.gof import goodness_of_fit
from weibull_stats.progress import Share, Ticker
from weibull_stats.registry import get_estimator
from weibull_stats.sample import Sample
from weibull_stats.scan_plan import ScanSettings


def _float(value: Any) -> float:
    return math.nan if value is None else float(value)


def unit_cost(settings: ScanSettings) -> int:
    """Work of one (sample, estimator) row in fits of the sample: the fit, each bootstrap
    resample and each goodness-of-fit refit (the scan's progress counts weights times this)."""
    return 1 + settings.bootstrap + settings.gof_samples * settings.gof


def fit_unit(sample: Sample, name: str, settings: ScanSettings, seed: int, threads: int | None,
             ticker: Ticker | None = None) -> dict[str, Any]:
    """One row: fit (or bootstrap) and test one checked sample with estimator ``name``.

    The sample is passed on as it is: nothing re-checks or re-copies the data. The bootstrap
    (the one consumer whose draws depend on the order of raw magnitudes) runs first. When
    ``ticker`` is given it is told of the work done in weights fitted: ``sample.size`` per
    fit, resample and refit (:func:`unit_cost` fits in all).
    """
    options = settings.fit_options(name)
    share: Share | None = Share(ticker, weight=sample.size) if ticker is not None else None
    boot = None
    if settings.bootstrap:
        boot = bootstrap(sample, name, n_resamples=settings.bootstrap, method=settings.bootstrap_method,
                         confidence_level=settings.confidence_level, rng=seed, workers=threads,
                         progress=share or False, **options)
        result = boot.estimate
    else:
        result = get_estimator(name)(sample, **options)
    if share is not None:
        share.update(1)
    row: dict[str, Any] = {
        "estimator": name, "shape": result.shape, "scale": result.scale, "n_used": result.n_used,
        "zeros": int(result.n_omitted.get("zeros", 0)), "r2": _float(result.r2),
        "converged": bool(result.converged),
        "options": json.dumps(dict(result.to_dict()["options"]), sort_keys=True),
        "shape_low": math.nan, "shape_high": math.nan, "scale_low": math.nan, "scale_high": math.nan,
        "confidence_level": math.nan, "n_resamples": 0, "interval_method": "",
        "gof_statistic": math.nan, "gof_pvalue": math.nan, "gof_samples": 0,
        "storage": sample.storage,
    }
    if boot is not None:
        interval = boot.confidence_interval
        row.update(shape_low=float(interval.shape[0]), shape_high=float(interval.shape[1]),
                   scale_low=float(interval.scale[0]), scale_high=float(interval.scale[1]),
                   confidence_level=settings.confidence_level, n_resamples=settings.bootstrap,
                   interval_method=f"{settings.bootstrap_method} bootstrap")
    if settings.gof:
        test = goodness_of_fit(sample, name, statistic="ad", n_mc_samples=settings.gof_samples, rng=seed,
                               workers=threads, progress=share or False, **options)
        row.update(gof_statistic=float(test.statistic), gof_pvalue=_float(test.pvalue),
                   gof_samples=settings.gof_samples)
    return row


__all__ = ["fit_unit", "unit_cost"]
