"""Exactness checks of the anchors: package constants, stated precision, Weibull recovery."""

from __future__ import annotations

import math
from collections.abc import Sequence

from weibull_stats.core.constants import HALFNORMAL_ANCHOR_SCALE, HALFNORMAL_ANCHOR_SHAPE
from weibull_stats.validation._common import Check, within
from weibull_stats.validation.anchors import (
    Anchor,
    all_anchors,
    anchor_option_sets,
    limit_for,
    log_moment_limit,
    probability_plot_limit,
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
    if "probability_plot" in estimators:
        shape, scale, _ = probability_plot_limit(HALFNORMAL)
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
    if "log_moment" in estimators:
        checks.append(
            within(
                "anchor.closed_form.log_moment.shape",
                log_moment_limit(HALFNORMAL)[0],
                2 / math.sqrt(3),
                1e-14,
                "shape = 2 / sqrt(3) exactly under HalfNormal",
            )
        )
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
