"""One row of a scan: fit, bootstrap and test one checked sample (see :mod:`weibull_stats.scanning.run`)."""

from __future__ import annotations

import json
import math
import warnings
from typing import Any

from weibull_stats.core.progress import Share, Ticker
from weibull_stats.core.seeds import seed_entropy
from weibull_stats.estimators.registry import get_estimator
from weibull_stats.inference.bootstrap import bootstrap
from weibull_stats.inference.confidence import UnreliableIntervalWarning, confidence_interval
from weibull_stats.inference.engine import check_workers
from weibull_stats.inference.gof import fitted_test
from weibull_stats.inference.null_choice import shares_null
from weibull_stats.sample.checked import Sample
from weibull_stats.scanning.settings import ScanSettings


def _float(value: Any) -> float:
    return math.nan if value is None else float(value)


#: The row's numbers that stay NaN when not computed.
NUMBER_COLUMNS: tuple[str, ...] = (
    "shape_low", "shape_high", "scale_low", "scale_high", "confidence_level", "shape_se", "log_scale_se",
    "bootstrap_shape_low", "bootstrap_shape_high", "bootstrap_scale_low", "bootstrap_scale_high",
)


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
    entry = get_estimator(name)
    boot = interval = None
    if settings.bootstrap:
        boot = bootstrap(sample, name, n_resamples=settings.bootstrap, method=settings.bootstrap_method,
                         confidence_level=settings.confidence_level, rng=seed, workers=threads,
                         progress=share or False, **options)
    no_interval = ""
    if settings.intervals == "asymptotic" and entry.asymptotic is not None:
        with warnings.catch_warnings():  # the reason is kept in the row's `interval_warning`
            warnings.simplefilter("ignore", UnreliableIntervalWarning)
            try:
                interval = confidence_interval(sample, name, method="asymptotic",
                                               confidence_level=settings.confidence_level, **options)
            except (ValueError, ArithmeticError) as exc:  # no first-order error here: the fit stands
                no_interval = f"no asymptotic interval: {exc}"
    if boot is not None:
        result = boot.estimate
    elif interval is not None:
        result = interval.estimate  # the estimator's own fit, computed with its errors
    else:
        result = entry(sample, **options)
    if share is not None:
        share.update(1)
    row: dict[str, Any] = {
        "estimator": name, "shape": result.shape, "scale": result.scale, "n_used": result.n_used,
        "zeros": int(result.n_omitted.get("zeros", 0)), "r2": _float(result.r2),
        "converged": bool(result.converged),
        "options": json.dumps(dict(result.to_dict()["options"]), sort_keys=True),
        **dict.fromkeys(NUMBER_COLUMNS, math.nan), "n_resamples": 0, "interval_method": "",
        "interval_warning": "", "bootstrap_method": "",
        "gof_statistic": math.nan, "gof_pvalue": math.nan, "gof_samples": 0, "gof_null": "",
        "storage": sample.storage,
    }
    if interval is not None:
        ci = interval.confidence_interval
        row.update(shape_low=ci.shape.low, shape_high=ci.shape.high, scale_low=ci.scale.low,
                   scale_high=ci.scale.high, shape_se=interval.standard_error.shape,
                   log_scale_se=interval.log_scale_se, interval_method="asymptotic",
                   interval_warning=interval.warning or "")
    elif settings.intervals == "asymptotic":
        row.update(interval_warning=no_interval or f"{name} has no asymptotic interval")
    if boot is not None:
        ci = boot.confidence_interval
        row.update(bootstrap_shape_low=ci.shape.low, bootstrap_shape_high=ci.shape.high,
                   bootstrap_scale_low=ci.scale.low, bootstrap_scale_high=ci.scale.high,
                   n_resamples=settings.bootstrap, bootstrap_method=settings.bootstrap_method)
    if interval is not None or boot is not None:
        row.update(confidence_level=settings.confidence_level)
    if settings.gof:
        # a shared null is keyed by its seed: the run's seed, so matrices of one size share one
        shared = shares_null(entry, options, sample, "ad", settings.gof_samples)
        own = entry.split(options)[1]
        statistic, test = fitted_test(sample, entry, own, result, "ad", settings.gof_samples,
                                      seed=seed_entropy(settings.seed if shared else seed),
                                      workers=check_workers(threads), progress=share or False)
        if share is not None and test.source != "simulated" and test.kind != "per-sample":
            share.update(settings.gof_samples)  # a null reused or the limit: its refits are done
        row.update(gof_statistic=float(statistic), gof_pvalue=_float(test.pvalue),
                   gof_samples=settings.gof_samples, gof_null=test.kind)
    return row


__all__ = ["fit_unit", "unit_cost"]
