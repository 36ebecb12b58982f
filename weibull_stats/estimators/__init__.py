"""The estimators: each one function returning a :class:`~weibull_stats.WeibullFit`.

Each estimator lives in its own module (``histogram``, ``log_moment``, ``mle``,
``probability_plot``, ``quantile``), from which the top-level package re-exports its public
names; the registry is :mod:`weibull_stats.estimators.registry`. This package exports what the
other layers need from all of them: the :class:`Estimator` record and its population hook,
the batch of a sample, and the reliability of asymptotic intervals.
"""

from weibull_stats.estimators._asymptotic import UnreliableIntervalWarning, reliability_reason
from weibull_stats.estimators._core import Estimator, sample_batch
from weibull_stats.estimators._population_hook import PopulationHook

__all__ = ["Estimator", "PopulationHook", "UnreliableIntervalWarning", "reliability_reason", "sample_batch"]
