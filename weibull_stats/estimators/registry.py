"""The registry of estimators that bootstrap, goodness of fit, validation, plots and the
scan all iterate over.

Each entry is an estimator module's ``ESTIMATOR``
(:class:`~weibull_stats.estimators._core.Estimator`): its public one-sample function, its
kernel on a batch of samples, its option check and, where it has one, its resampling fast
path. Adding an estimator is its module, one line in :data:`ESTIMATORS` and its tests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from weibull_stats.estimators._core import Estimator
from weibull_stats.estimators.histogram import ESTIMATOR as HISTOGRAM
from weibull_stats.estimators.log_moment import ESTIMATOR as LOG_MOMENT
from weibull_stats.estimators.mle import ESTIMATOR as MLE
from weibull_stats.estimators.probability_plot import ESTIMATOR as PROBABILITY_PLOT
from weibull_stats.estimators.quantile import ESTIMATOR as QUANTILE
from weibull_stats.estimators.results import WeibullFit
from weibull_stats.sample.checked import POLICY_OPTIONS

_REGISTERED: dict[str, Estimator] = {
    e.name: e for e in (PROBABILITY_PLOT, HISTOGRAM, MLE, QUANTILE, LOG_MOMENT)
}
#: The registered estimators by name, in the order tables list them.
ESTIMATORS: Mapping[str, Estimator] = MappingProxyType(_REGISTERED)
#: The estimator of every entry point when none is named (:func:`fit`, :func:`~weibull_stats.bootstrap`,
#: :func:`~weibull_stats.goodness_of_fit`, :func:`~weibull_stats.confidence_interval`,
#: :func:`~weibull_stats.scan` and every command's ``--estimator``): the paper's probability plot.
DEFAULT_ESTIMATOR: str = PROBABILITY_PLOT.name


def declared_estimator(flag: str) -> Estimator:
    """The one registered estimator that declares ``flag`` on its record: ``"package_anchor"``
    (its default HalfNormal limit is the package's anchor) or ``"maximum_likelihood"`` (the
    efficiency reference); an error unless exactly one does.

    Examples
    --------
    >>> declared_estimator("package_anchor").name, declared_estimator("maximum_likelihood").name
    ('probability_plot', 'mle')
    """
    chosen = [e for e in ESTIMATORS.values() if getattr(e, flag)]
    if len(chosen) != 1:
        found = ", ".join(e.name for e in chosen) or "none"
        raise RuntimeError(f"exactly one registered estimator must declare `{flag}`; found {found}")
    return chosen[0]


def check_options(estimator: Estimator, options: Mapping[str, Any]) -> None:
    """Raise a message naming any option that ``estimator`` does not take."""
    estimator.check_names(options)


def options_by_estimator(options: Mapping[str, Any] | None, estimators: Sequence[str]
                         ) -> dict[str, dict[str, Any]]:
    """Estimator options for several estimators at once, checked by each estimator.

    ``options`` is either flat, ``{"trim": (0.05, 0.95)}``, each option going to every
    estimator in ``estimators`` that takes it (one that none takes is an error), or keyed by
    estimator, ``{"probability_plot": {"trim": (0.05, 0.95)}}``. The input policy
    (``values``, ``zeros``, ``nonfinite``) is not an estimator option here: it is one policy
    for all estimators, given by its own arguments.

    Returns
    -------
    dict
        ``{estimator: {option: checked value}}`` for every name in ``estimators``, holding
        only the options given.

    Examples
    --------
    >>> options_by_estimator({"trim": [0.05, 0.95]}, ["probability_plot", "mle"])
    {'probability_plot': {'trim': (0.05, 0.95)}, 'mle': {}}
    >>> options_by_estimator({"mle": {"trim": (0.1, 0.9)}}, ["mle"])
    Traceback (most recent call last):
    ...
    ValueError: unknown option `trim` for estimator 'mle'; valid options: values, nonfinite, zeros
    """
    chosen: dict[str, dict[str, Any]] = {name: {} for name in estimators}
    if options is None:
        return chosen
    if not isinstance(options, Mapping):
        raise ValueError(f"`options` must be a mapping of option names (or of estimator names) to values; "
                         f"got {type(options).__name__}")
    nested = bool(options) and all(key in ESTIMATORS and isinstance(value, Mapping)
                                   for key, value in options.items())
    if nested:
        for name, given in options.items():
            if name not in chosen:
                raise ValueError(f"`options` are given for estimator {name!r}, which is not among the "
                                 f"estimators of this run ({', '.join(estimators)})")
            chosen[name] = dict(given)
    else:
        for option, value in options.items():
            takers = [e for e in estimators if option in ESTIMATORS[e].options]
            if not takers:
                takes = "; ".join(f"{e} takes {', '.join(_own(e)) or 'no options'}" for e in estimators)
                raise ValueError(f"no chosen estimator takes option `{option}` ({takes})")
            for name in takers:
                chosen[name][option] = value
    for name, given in chosen.items():
        entry = get_estimator(name)
        policy = sorted(set(given) & set(POLICY_OPTIONS))
        if policy:
            raise ValueError(f"`{policy[0]}` is the input policy, one for every estimator: give it as "
                             f"its own argument, not among the estimator options")
        entry.check_names(given)
        checked = entry.check(**given)
        chosen[name] = {option: checked[option] for option in given}
    return chosen


def _own(name: str) -> list[str]:
    return [k for k in ESTIMATORS[name].options if k not in POLICY_OPTIONS]


def get_estimator(name: str) -> Estimator:
    """The registered estimator called ``name``; a clear error listing the names otherwise.

    Examples
    --------
    >>> get_estimator("mle").options["zeros"]
    'omit'
    >>> get_estimator("gmm")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: unknown estimator 'gmm'; registered estimators: probability_plot, histogram, ...
    """
    try:
        return ESTIMATORS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown estimator {name!r}; registered estimators: {', '.join(ESTIMATORS)}"
        ) from None


def fit(x: Any, /, estimator: str = DEFAULT_ESTIMATOR, **options: Any) -> WeibullFit:
    """Fit a two-parameter Weibull law with a registered estimator.

    Parameters
    ----------
    x : array_like, torch.Tensor or Sample
        Sample, any shape and float dtype; by default signed weights, whose magnitudes
        ``|x|`` are fitted (the input policy, :func:`~weibull_stats.as_sample`).
    estimator : str, default "probability_plot"
        A key of :data:`ESTIMATORS` (:data:`DEFAULT_ESTIMATOR` by default).
    **options
        The estimator's options and the input policy (``values``, ``nonfinite``,
        ``zeros``); an unknown name is an error.

    Returns
    -------
    WeibullFit
        The fit, recording the estimator, every option it used and the input policy.

    Examples
    --------
    >>> w = np.random.default_rng(0).normal(0.0, 0.02, 100_000)
    >>> fit = ws.fit(w)  # the probability plot of |w|
    >>> round(fit.shape, 2)
    1.2
    """
    return get_estimator(estimator)(x, **options)
