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

The anchors' quadrature needs mpmath (the ``validation`` extra). Importing this package, or
the gate, does not import it: the names below that live in the anchor, population and suite
modules are loaded on first use, so that a scan with the validation skipped stays free of it.
"""

from __future__ import annotations

import importlib
from typing import Any

from weibull_stats.validation._common import DEFAULT_SEED, Check
from weibull_stats.validation.gate import GateRecord, ValidationFailed, ensure_validated

#: Public names of the modules that need mpmath, imported when first asked for.
_ON_FIRST_USE: dict[str, str] = {
    "Anchor": "anchors",
    "default_anchor": "anchors",
    "estimator_anchors": "anchors",
    "HALFNORMAL": "populations",
    "UNIFORM": "populations",
    "Population": "populations",
    "truncated_halfnormal": "populations",
    "weibull": "populations",
    "ValidationReport": "suite",
    "run_full": "suite",
    "run_quick": "suite",
}


def __getattr__(name: str) -> Any:
    module = _ON_FIRST_USE.get(name)
    if module is None:
        raise AttributeError(f"module 'weibull_stats.validation' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"weibull_stats.validation.{module}"), name)
    globals()[name] = value
    return value


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
