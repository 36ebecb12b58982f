"""One row of a scan: fit, bootstrap and test one checked sample (see :mod:`weibull_stats.scanning`)."""

from __future__ import annotations

import json
import math
from typing import Any

from weibull_stats.bootstrapping import bootstrap
from weibull_stats.gof import goodness_of_fit
from weibull_stats.registry import get_estimator
from weibull_stats.sample import Sample
from weibull_stats.scan_plan import FIT_OPTIONS, ScanSettings


def _float(value: Any) -> float:
    return math.nan if value is None else float(value)


def fit_unit(sample: Sample, name: str, settings: ScanSettings, seed: int, threads: int | None
              ) -> dict[str, Any]:
    """One row: fit (or bootstrap) and test one checked sample with estimator ``name``.

    The sample is passed on as it is: nothing re-checks or re-copies the data. The bootstrap
    (the one consumer whose draws depend on the order of raw magnitudes) runs first.
    """
    boot = None
    if settings.bootstrap:
        boot = bootstrap(sample, name, n_resamples=settings.bootstrap, method="percentile",
                         confidence_level=settings.confidence_level, rng=seed, workers=threads,
                         **FIT_OPTIONS)
        result = boot.estimate
    else:
        result = get_estimator(name)(sample, **FIT_OPTIONS)
    row: dict[str, Any] = {
        "estimator": name, "shape": result.shape, "scale": result.scale, "n_used": result.n_used,
        "zeros": int(result.n_omitted.get("zeros", 0)), "r2": _float(result.r2),
        "converged": bool(result.converged),
        "options": json.dumps(dict(result.to_dict()["options"]), sort_keys=True),
        "shape_low": math.nan, "shape_high": math.nan, "scale_low": math.nan, "scale_high": math.nan,
        "confidence_level": math.nan, "n_resamples": 0,
        "gof_statistic": math.nan, "gof_pvalue": math.nan, "gof_samples": 0,
        "storage": sample.storage,
    }
    if boot is not None:
        interval = boot.confidence_interval
        row.update(shape_low=float(interval.shape[0]), shape_high=float(interval.shape[1]),
                   scale_low=float(interval.scale[0]), scale_high=float(interval.scale[1]),
                   confidence_level=settings.confidence_level, n_resamples=settings.bootstrap)
    if settings.gof:
        test = goodness_of_fit(sample, name, statistic="ad", n_mc_samples=settings.gof_samples, rng=seed,
                               workers=threads, **FIT_OPTIONS)
        row.update(gof_statistic=float(test.statistic), gof_pvalue=_float(test.pvalue),
                   gof_samples=settings.gof_samples)
    return row


__all__ = ["fit_unit"]
