"""What every estimator module declares, and the one-sample fit as a batch of one.

An estimator module defines, and is the only place that knows:

* ``check_options(**options) -> dict``: its own options, checked and normalised (the
  policy options ``values``, ``nonfinite``, ``zeros`` are :func:`~weibull_stats.as_sample`'s);
* its kernel ``kernel(batch, **options) -> Lines`` on :class:`~weibull_stats.sample.batch.RawRows`
  and :class:`~weibull_stats.sample.batch.CountRows`;
* its public one-sample function, ``fit_<name>(x, /, *, <options>, values, nonfinite,
  zeros)``, which is :func:`one_fit` of its kernel on ``as_sample(x)``;
* optionally a resampling fast path for raw samples (``plan``), the hooks the
  validation suite needs (``population``, a :class:`PopulationHook`: its exact population
  value, the option sets to tabulate, what it reads of a population, its finite-n bias
  where derived, closed forms) and its large-sample standard errors (``asymptotic``, see
  :mod:`._asymptotic`);
* what validation, reports and plots otherwise ask of it (``package_anchor``,
  ``maximum_likelihood``): code outside this package reads these declarations and never
  branches on an estimator's name;
* ``ESTIMATOR = Estimator(...)``, which :mod:`weibull_stats.estimators.registry` lists.
"""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol

import numpy as np

from weibull_stats.estimators._asymptotic import AsymptoticFit, CoverageCaveat
from weibull_stats.estimators._influence import EquivarianceHook, Influence, InfluenceHook, never
from weibull_stats.estimators._population_hook import PopulationHook
from weibull_stats.estimators.results import WeibullFit
from weibull_stats.sample.batch import Batch, CountRows, Lines, RawRows
from weibull_stats.sample.checked import POLICY_OPTIONS, Sample, as_sample
from weibull_stats.sample.degenerate import DegenerateSampleWarning, degenerate_reason

#: Diagnostics that have a field of their own in :class:`~weibull_stats.WeibullFit`.
FIT_FIELDS: tuple[str, ...] = ("r2", "shape_se", "scale_se", "iterations")


#: ``kernel(batch, /, **options) -> Lines``
Kernel = Callable[..., Lines]


class ResamplePlan(Protocol):
    """Fast resampling of a raw sample by an order-statistic estimator (no resample formed)."""

    def nonparametric(self, generator: np.random.Generator, size: int) -> np.ndarray:
        """``(size, 2)`` shapes and scales of ``size`` nonparametric resamples."""
        ...


@dataclass(frozen=True, slots=True)
class Estimator:
    """One registered estimator.

    Attributes
    ----------
    name : str
        Registry key, recorded in every result.
    function : callable
        The public one-sample fit, ``function(x, /, **options) -> WeibullFit``.
    kernel : callable
        ``kernel(batch, **options) -> Lines`` on a batch of samples.
    check : callable
        ``check(**options) -> dict``: the estimator's own options (no policy), checked and
        normalised; what the kernel takes.
    summary : str
        One line for tables and ``--help``.
    order_statistics : bool
        True when the estimate depends on the data only through order statistics.
    plan : callable or None
        ``plan(sorted_magnitudes, **options) -> ResamplePlan``: a nonparametric bootstrap of
        a raw sample without forming resamples; ``plan.min_n`` is the size from which it is
        the faster route.
    population : PopulationHook or None
        ``population(population, **options) -> (shape, scale)``: the estimator's exact
        limit under a population, with the option sets the validation suite tabulates
        (see :mod:`weibull_stats.validation.anchors`).
    asymptotic : callable or None
        ``asymptotic(sample, /, **options) -> AsymptoticFit``: the fit of a
        :class:`~weibull_stats.Sample` (kernel options as ``check`` gives them) with the
        large-sample standard errors of shape and ln scale, from the fit's own sort or
        counts (:func:`weibull_stats.confidence_interval` uses it).
    label : str
        Name in figure titles and legends (default: ``name``).
    published_protocol : Mapping or None
        The kernel options (as ``check`` takes them) with which this estimator produced the
        published benchmark numbers (DATABASE v9.1 of arXiv:2605.18898: middle 80%, Hazen,
        y on x), or None when it did not. Only fits with these options are compared with
        the published bands and the HalfNormal anchor (:meth:`follows_published_protocol`).
    options : Mapping
        Option names and defaults, read from ``function``'s keyword-only parameters.
    package_anchor : bool
        True for the one estimator whose default limit under HalfNormal(sigma) is the
        package's anchor (``HALFNORMAL_ANCHOR_SHAPE``, ``HALFNORMAL_ANCHOR_SCALE``): the
        validation suite checks the constants against it and runs the studies of that anchor
        with it (trim, step-0 architectures, bf16 storage, half-normal bootstrap coverage,
        goodness of fit on bf16 data); a scan report's first figures are its.
    maximum_likelihood : bool
        True for the one maximum-likelihood estimator: the reference of the efficiency study
        (asymptotically efficient under Weibull data), the Weibull fit of the model
        comparison and the classic goodness-of-fit procedure.
    equivariant : callable
        ``equivariant(**options) -> bool`` (kernel options as ``check`` gives them): whether
        fitting ``s * x**p`` gives shape ``shape/p`` and scale ``s * scale**p`` exactly, so that
        the null law of goodness of fit does not depend on the parameters and one simulated
        null serves every sample of a size (:mod:`weibull_stats.inference.shared_null`).
        Default: never (fixed bins in absolute units are not).
    influence : callable or None
        ``influence(**options) -> Influence``: the influence function of ``(ln scale,
        1/shape)`` at the standard Weibull model (:mod:`._influence`), from which the
        asymptotic null of goodness of fit is computed; None where not derived.
    caveats : tuple of CoverageCaveat
        Where the coverage study finds the default asymptotic interval systematically off
        nominal (:class:`~weibull_stats.estimators._asymptotic.CoverageCaveat`): those samples'
        intervals carry the caveat as their warning.

    Examples
    --------
    >>> from weibull_stats.estimators.log_moment import ESTIMATOR
    >>> dict(ESTIMATOR.options)["zeros"], ESTIMATOR.order_statistics
    ('omit', False)
    >>> x = np.random.default_rng(0).weibull(1.5, 1000)
    >>> round(ESTIMATOR(x).shape, 1)
    1.5
    """

    name: str
    function: Callable[..., WeibullFit]
    kernel: Kernel
    check: Callable[..., dict[str, Any]]
    summary: str
    order_statistics: bool
    plan: Callable[..., ResamplePlan] | None = None
    population: PopulationHook | None = None
    asymptotic: Callable[..., AsymptoticFit] | None = None
    label: str = ""
    published_protocol: Mapping[str, Any] | None = None
    options: Mapping[str, Any] = field(init=False)
    # -- what validation, reports and plots read (the registry helpers find the one of each)
    package_anchor: bool = False
    maximum_likelihood: bool = False
    # -- what goodness of fit reads (the shared and the asymptotic null)
    equivariant: EquivarianceHook = never
    influence: InfluenceHook | None = None
    caveats: tuple[CoverageCaveat, ...] = ()

    def __post_init__(self) -> None:
        params = inspect.signature(self.function).parameters.values()
        defaults = {p.name: p.default for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY}
        object.__setattr__(self, "options", MappingProxyType(defaults))
        if not self.label:
            object.__setattr__(self, "label", self.name)

    @property
    def paper_protocol(self) -> bool:
        """Whether some option set of this estimator is the published protocol."""
        return self.published_protocol is not None

    def protocol_departures(self, options: Mapping[str, Any]) -> tuple[str, ...]:
        """The options of the published protocol that a fit which recorded ``options`` did not
        follow (recorded with another value, or not recorded); every protocol option when
        this estimator declares none. Other recorded keys, the input policy among them, are
        not part of the protocol.

        Examples
        --------
        >>> from weibull_stats.estimators.probability_plot import ESTIMATOR
        >>> ESTIMATOR.protocol_departures({"trim": [0.05, 0.95], "plotting_position": "hazen",
        ...                                "direction": "y_on_x", "values": "weights"})
        ('trim',)
        """
        protocol = self.published_protocol
        if protocol is None:
            return ()
        wanted = self.check(**protocol)
        departures = []
        for name in protocol:
            try:
                given = self.check(**{**protocol, name: options[name]})[name] if name in options else None
                same = name in options and _equal_option(given, wanted[name])
            except (TypeError, ValueError):
                same = False
            if not same:
                departures.append(name)
        return tuple(departures)

    def follows_published_protocol(self, options: Mapping[str, Any]) -> bool:
        """Whether a fit that recorded ``options`` is on the published protocol: this
        estimator declares one and every option of it was recorded with the declared value
        (:meth:`protocol_departures` is empty).

        Examples
        --------
        >>> from weibull_stats.estimators.probability_plot import ESTIMATOR
        >>> ESTIMATOR.follows_published_protocol({"trim": [0.1, 0.9], "plotting_position": "hazen",
        ...                                       "direction": "y_on_x", "values": "weights"})
        True
        """
        return self.published_protocol is not None and not self.protocol_departures(options)

    def is_equivariant(self, options: Mapping[str, Any]) -> bool:
        """Whether this estimator with the checked kernel ``options`` is exactly equivariant
        under ``x -> s * x**p`` (:attr:`equivariant`)."""
        return bool(self.equivariant(**options))

    def influence_function(self, options: Mapping[str, Any]) -> Influence | None:
        """The influence function at the standard model with the checked kernel ``options``,
        or None when this estimator declares none."""
        return None if self.influence is None else self.influence(**options)

    def __call__(self, x: Any, /, **options: Any) -> WeibullFit:
        self.check_names(options)
        return self.function(x, **options)

    def check_names(self, options: Mapping[str, Any]) -> None:
        """Raise a message naming any option this estimator does not take."""
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            names = ", ".join(f"`{u}`" for u in unknown)
            valid = ", ".join(self.options)
            raise ValueError(f"unknown option {names} for estimator {self.name!r}; valid options: {valid}")

    def split(self, options: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, Any]]:
        """``(policy, kernel options)`` of ``options`` (defaults filled in, checked)."""
        self.check_names(options)
        merged = {**self.options, **options}
        policy = {k: merged[k] for k in POLICY_OPTIONS}
        own = {k: v for k, v in merged.items() if k not in POLICY_OPTIONS}
        return policy, self.check(**own)

    def sample(self, x: Any, options: Mapping[str, Any]) -> tuple[Sample, dict[str, Any]]:
        """``x`` checked into a :class:`~weibull_stats.Sample` under the policy in ``options``,
        and the checked kernel options."""
        policy, own = self.split(options)
        sample = as_sample(x, values=policy["values"], nonfinite=policy["nonfinite"], zeros=policy["zeros"])
        return sample, own


def _equal_option(a: Any, b: Any) -> bool:
    """Equal checked option values (None, strings, numbers, tuples or arrays)."""
    if a is None or b is None:
        return a is b
    return bool(np.array_equal(np.asarray(a), np.asarray(b)))


def sample_batch(sample: Sample) -> Batch:
    """The sample as a batch of one (no copy)."""
    if sample.magnitudes is not None:
        return RawRows(sample.magnitudes[None, :], ordered=sample.ordered, owned=sample.owned)
    assert sample.distinct is not None and sample.counts is not None
    return CountRows(sample.distinct, sample.counts[None, :])


def _scalar(value: Any) -> Any:
    item = value.item() if isinstance(value, np.generic) else value
    return item


def one_fit(
    name: str,
    kernel: Kernel,
    sample: Sample,
    options: Mapping[str, Any],
    *,
    record: Mapping[str, Any] | None = None,
) -> WeibullFit:
    """The kernel on ``sample`` as a batch of one, as a :class:`~weibull_stats.WeibullFit`.

    ``options`` go to the kernel; ``record`` (default ``options``) is what the result
    records besides the sample's policy. An undefined fit raises its reason.

    This is where every estimator applies the degenerate-sample rules
    (:func:`weibull_stats.sample.degenerate.degenerate_reason`), before the kernel runs: a
    degenerate sample warns :class:`~weibull_stats.DegenerateSampleWarning` (also when the
    estimator then refuses it) and the fit records the reason as ``details["degenerate"]``.
    """
    reason = degenerate_reason(sample)
    if reason is not None:
        warnings.warn(f"{reason}; the {name} fit is not a reliable Weibull shape",
                      DegenerateSampleWarning, stacklevel=3)
    lines = kernel(sample_batch(sample), **options)
    if not bool(lines.defined[0]):
        raise ValueError(lines.reasons.get(0, "the fit is undefined"))
    diagnostics = {k: _scalar(v[0]) for k, v in lines.diagnostics.items()}
    named = {k: diagnostics.pop(k) for k in FIT_FIELDS if k in diagnostics}
    if "iterations" in named:
        named["iterations"] = int(named["iterations"])
    return WeibullFit(
        shape=float(lines.shape[0]),
        scale=float(lines.scale[0]),
        estimator=name,
        n=sample.n,
        n_used=int(lines.n_used[0]),
        options={**(options if record is None else record), **sample.policy},
        converged=bool(lines.converged[0]),
        n_omitted=sample.n_omitted,
        details={**diagnostics, "storage": sample.storage,
                 **({} if reason is None else {"degenerate": reason})},
        data_range=None if math.isnan(sample.low) else (sample.low, sample.high),
        **named,
    )
