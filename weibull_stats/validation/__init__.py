"""The validation suite: exact anchors, simulation studies, the gate, step-0 checks.

* :mod:`~weibull_stats.validation.anchors` — exact population values of every estimator
  (quadrature, closed forms) under the half-normal and other laws.
* :mod:`~weibull_stats.validation.asymptotic` — asymptotic standard deviations and
  finite-n biases used as Monte Carlo tolerances.
* :mod:`~weibull_stats.validation.simulation`, :mod:`~weibull_stats.validation.studies` —
  seeded simulation studies.
* :mod:`~weibull_stats.validation.step0` — freshly initialised real architectures.
* :mod:`~weibull_stats.validation.gate` — :func:`ensure_validated`, run before real weights.
* :mod:`~weibull_stats.validation.suite` — the quick and full runs behind
  ``weibull-stats validate``.
"""

from weibull_stats.validation._common import DEFAULT_SEED, Check
from weibull_stats.validation.anchors import Anchor, default_anchor, estimator_anchors
from weibull_stats.validation.gate import GateRecord, ValidationFailed, ensure_validated
from weibull_stats.validation.populations import (
    HALFNORMAL,
    UNIFORM,
    Population,
    truncated_halfnormal,
    weibull,
)
from weibull_stats.validation.suite import ValidationReport, run_full, run_quick

__all__ = [
    "DEFAULT_SEED",
    "HALFNORMAL",
    "UNIFORM",
    "Anchor",
    "Check",
    "GateRecord",
    "Population",
    "ValidationFailed",
    "ValidationReport",
    "default_anchor",
    "ensure_validated",
    "estimator_anchors",
    "run_full",
    "run_quick",
    "truncated_halfnormal",
    "weibull",
]
