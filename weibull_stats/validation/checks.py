"""Exactness checks of the anchors: package constants, closed forms, stated precision, Weibull
recovery. Which estimator the constants belong to and which closed forms hold are declared on
the estimators' records (``package_anchor``, ``PopulationHook.known``)."""

from __future__ import annotations

from collections.abc import Sequence

from weibull_stats.core.constants import HALFNORMAL_ANCHOR_SCALE, HALFNORMAL_ANCHOR_SHAPE
from weibull_stats.estimators.registry import declared_estimator
from weibull_stats.validation._common import Check, within
from weibull_stats.validation.anchors import (
    Anchor,
    all_anchors,
    anchor_option_sets,
    default_anchor,
    limit_for,
    population_hook,
    recovery_tolerance,
)
from weibull_stats.validation.populations import HALFNORMAL, weibull

#: True shapes at which every anchor must give back the true parameters.
RECOVERY_SHAPES: tuple[float, ...] = (0.7, 1.2, 2.0)
#: Relative tolerance of an exact anchor (quadrature) against a closed form or true value.
EXACT_TOLERANCE = 1e-10

__all__ = ["EXACT_TOLERANCE", "RECOVERY_SHAPES", "anchor_checks"]


def anchor_checks(estimators: Sequence[str]) -> tuple[list[Anchor], list[Check]]:
    """Half-normal anchors and the exactness checks (constants, precision, Weibull recovery)."""
    anchors = all_anchors(estimators, HALFNORMAL)
    checks: list[Check] = []
    if declared_estimator("package_anchor").name in estimators:
        shape, scale = default_anchor(declared_estimator("package_anchor").name, HALFNORMAL)
        checks.append(
            within(
                "anchor.constant.HALFNORMAL_ANCHOR_SHAPE",
                HALFNORMAL_ANCHOR_SHAPE,
                shape,
                5e-11,
                "package constant (10 decimals) against the quadrature",
            )
        )
        checks.append(
            within(
                "anchor.constant.HALFNORMAL_ANCHOR_SCALE",
                HALFNORMAL_ANCHOR_SCALE,
                scale,
                5e-11,
                "package constant (10 decimals) against the quadrature",
            )
        )
    for name in estimators:
        for known in population_hook(name).known:
            if known.population == HALFNORMAL.label:
                limit = default_anchor(name, HALFNORMAL)[("shape", "scale").index(known.parameter)]
                checks.append(within(f"anchor.closed_form.{name}.{known.parameter}", limit, known.value,
                                     known.tolerance, known.detail))
    for name in estimators:
        worst = max(a.error / max(1.0, abs(a.shape), abs(a.scale)) for a in anchors if a.estimator == name)
        checks.append(
            Check(
                f"anchor.precision.{name}",
                worst <= EXACT_TOLERANCE,
                worst,
                0.0,
                EXACT_TOLERANCE,
                "stated relative error of every half-normal anchor (10 significant digits)",
            )
        )
        tolerance = recovery_tolerance(name) or EXACT_TOLERANCE
        for options in anchor_option_sets(name):
            label = ",".join(f"{k}={v}" for k, v in options.items())
            for true_shape in RECOVERY_SHAPES:
                shape, scale = limit_for(name, weibull(true_shape), options)
                detail = (
                    "binned limit: bin-width error allowed"
                    if recovery_tolerance(name)
                    else "exact limit must equal the truth"
                )
                base = f"anchor.weibull.{name}" + (f"[{label}]" if label else "") + f".k={true_shape:g}"
                checks.append(within(f"{base}.shape", shape / true_shape, 1.0, tolerance, detail))
                checks.append(within(f"{base}.scale", scale, 1.0, tolerance, detail))
    return anchors, checks
