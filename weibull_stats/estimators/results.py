"""The one result type every estimator returns."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from weibull_stats._version import __version__
from weibull_stats.core.display import Row, Summary, display_methods, figure, fraction_near_one, options_text
from weibull_stats.core.formatting import jsonable
from weibull_stats.core.options import no_omissions

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from scipy.stats._distn_infrastructure import rv_continuous_frozen


def _freeze(value: Any) -> Any:
    """Make option values hashable-ish and JSON-friendly (lists become tuples)."""
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, Mapping):
        return MappingProxyType({str(k): _freeze(v) for k, v in value.items()})
    return value


#: The columns that name one fit, in this order, in every table of fits: the leading columns of
#: :meth:`WeibullFit.to_row` and :func:`~weibull_stats.results_table`, and the fit columns of a
#: scan table (:data:`weibull_stats.scanning.run.COLUMNS`).
FIT_COLUMNS: tuple[str, ...] = ("estimator", "shape", "scale", "n", "n_used")
#: Interval columns, in this order, wherever a table carries intervals.
INTERVAL_COLUMNS: tuple[str, ...] = ("shape_low", "shape_high", "scale_low", "scale_high", "confidence_level")
#: Provenance columns that close every table of fits.
PROVENANCE_COLUMNS: tuple[str, ...] = ("seed", "package_version")


#: Digits: an estimate is printed down to about a tenth of its standard error: the recorded one
#: (``shape_se`` of a maximum-likelihood fit), else the order of magnitude of the sampling error,
#: ``shape / sqrt(n_used)`` for the shape and ``scale / (shape sqrt(n_used))`` for the scale (the
#: asymptotic standard errors of the estimators are 0.5 to 1.5 times these).


def sampling_errors(fit: WeibullFit) -> tuple[float | None, float | None]:
    """Standard errors of shape and scale that set the printed digits (see the module notes).

    Examples
    --------
    >>> from weibull_stats.estimators.results import WeibullFit
    >>> fit = WeibullFit(shape=2.0, scale=3.0, estimator="mle", n=10_000, n_used=10_000)
    >>> sampling_errors(fit)
    (0.02, 0.015)
    """
    return digit_errors(fit.shape, fit.scale, fit.n_used, fit.shape_se, fit.scale_se)


def _usable(error: Any) -> bool:
    try:
        return error is not None and math.isfinite(float(error)) and float(error) > 0.0
    except (TypeError, ValueError):
        return False


def digit_errors(shape: float, scale: float, n_used: Any, shape_se: Any = None, scale_se: Any = None
                 ) -> tuple[float | None, float | None]:
    """The errors that set the printed digits of a shape and a scale (the module notes' rule):
    the recorded standard errors where usable, else ``shape / sqrt(n_used)`` and
    ``scale / (shape sqrt(n_used))``; None where neither is known (no usable ``n_used``).

    Examples
    --------
    >>> digit_errors(2.0, 3.0, 10_000), digit_errors(2.0, 3.0, None, shape_se=0.5)
    ((0.02, 0.015), (0.5, None))
    """
    root = math.sqrt(float(n_used)) if _usable(n_used) else None
    shape_error = float(shape_se) if _usable(shape_se) else abs(shape) / root if root else None
    scale_error = (float(scale_se) if _usable(scale_se)
                   else abs(scale) / (abs(shape) * root) if root and shape else None)
    return shape_error, scale_error


def _with_error(value: float, error: float | None, recorded: float | None) -> str:
    text = figure(value, error)
    if recorded is not None and math.isfinite(recorded):
        text += f" ± {recorded:.2g}"
    return text


def fit_summary(fit: WeibullFit) -> Summary:
    """The display of a :class:`~weibull_stats.WeibullFit`.

    Examples
    --------
    >>> from weibull_stats.estimators.results import WeibullFit
    >>> fit = WeibullFit(shape=1.2054343, scale=0.8874870, estimator="probability_plot",
    ...                  n=1_000_000, n_used=800_000, r2=0.9996123)
    >>> fit
    WeibullFit(probability_plot: k=1.2054, λ=0.88749, n=1000000, r²=0.99961)
    """
    shape_error, scale_error = sampling_errors(fit)
    headline: list[Row] = [("k", figure(fit.shape, shape_error)), ("λ", figure(fit.scale, scale_error)),
                           ("n", str(fit.n))]
    if fit.r2 is not None:
        headline.append(("r²", fraction_near_one(fit.r2)))
    if not fit.converged:
        headline.append(("", "not converged"))
    rows: list[Row] = [
        ("shape k", _with_error(fit.shape, shape_error, fit.shape_se)),
        ("scale λ", _with_error(fit.scale, scale_error, fit.scale_se)),
        ("n (used)", f"{fit.n} ({fit.n_used})"),
    ]
    omitted = {k: v for k, v in fit.n_omitted.items() if v}
    if omitted:
        rows.append(("omitted", options_text(omitted)))
    if fit.r2 is not None:
        rows.append(("r²", fraction_near_one(fit.r2)))
    rows.append(("converged", "yes" if fit.converged else "no"))
    if fit.iterations is not None:
        rows.append(("iterations", str(fit.iterations)))
    if fit.options:
        rows.append(("options", options_text(fit.options)))
    rows.append(("version", fit.package_version))
    return Summary("WeibullFit", fit.estimator, tuple(headline), tuple(rows))


@dataclass(frozen=True, slots=True)
class WeibullFit:
    """A fitted two-parameter Weibull law ``F(x) = 1 - exp(-(x / scale) ** shape)``.

    This is the parameterisation of ``scipy.stats.weibull_min(c=shape, scale=scale)``
    (location fixed at 0); :meth:`distribution` returns exactly that frozen object.

    Attributes
    ----------
    shape : float
        Weibull shape ``k``.
    scale : float
        Weibull scale ``lambda``, in the units of the data.
    estimator : str
        Registry name of the estimator (``"probability_plot"``, ``"mle"``, ...).
    n : int
        Number of values given, before anything was omitted.
    n_used : int
        Number of values that entered the fit (after omissions and any trim).
    options : Mapping
        Every option the estimator used, defaults included: with ``estimator`` and the
        data this reproduces the numbers.
    converged : bool
        False when an iterative estimator stopped without meeting its tolerance.
    n_omitted : Mapping
        ``{"masked": int, "nonfinite": int, "zeros": int}``
        (:data:`~weibull_stats.core.options.OMISSIONS`): values dropped by an explicit
        option; a count not given is 0.
    r2 : float or None
        Coefficient of determination of the regression (regression estimators only).
    shape_se, scale_se : float or None
        Standard errors from the observed information (maximum likelihood only).
    iterations : int or None
        Iterations of an iterative solver.
    details : Mapping
        Other estimator-specific figures (for example histogram bins used).
    data_range : (float, float) or None
        The smallest and largest magnitude of the sample fitted (before any trim), as its
        input check found them (:attr:`~weibull_stats.Sample.low`, ``high``: no pass of their
        own). With ``n`` and ``n_omitted`` they identify the data: :meth:`plot` refuses other
        data (:func:`check_fitted_data`). None where unknown (a fit of histogram counts, a
        record of an earlier version).
    package_version : str
        The weibull-stats version that produced the fit.

    Examples
    --------
    >>> import numpy as np
    >>> import weibull_stats as ws
    >>> fit = ws.fit_mle(np.random.default_rng(0).weibull(2.0, 10_000) * 3.0)
    >>> round(fit.shape, 1), round(fit.scale, 1), fit.estimator, fit.n
    (2.0, 3.0, 'mle', 10000)
    >>> ws.WeibullFit.from_dict(fit.to_dict()) == fit  # the JSON round trip
    True
    >>> round(float(fit.distribution().cdf(fit.scale)), 6)  # F(scale) = 1 - 1/e
    0.632121
    """

    shape: float
    scale: float
    estimator: str
    n: int
    n_used: int
    options: Mapping[str, Any] = field(default_factory=dict)
    converged: bool = True
    n_omitted: Mapping[str, int] = field(default_factory=no_omissions)
    r2: float | None = None
    shape_se: float | None = None
    scale_se: float | None = None
    iterations: int | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    data_range: tuple[float, float] | None = None
    package_version: str = __version__

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", float(self.shape))
        object.__setattr__(self, "scale", float(self.scale))
        object.__setattr__(self, "options", _freeze(dict(self.options)))
        omitted = {**no_omissions(), **dict(self.n_omitted)}
        object.__setattr__(self, "n_omitted", _freeze(omitted))
        object.__setattr__(self, "details", _freeze(dict(self.details)))
        if self.data_range is not None:
            low, high = (float(v) for v in self.data_range)
            object.__setattr__(self, "data_range", (low, high))

    # ------------------------------------------------------------------ conversions
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-compatible dictionary (tuples become lists, non-finite floats None)."""
        return {f.name: jsonable(getattr(self, f.name)) for f in fields(self)}

    def to_json(self, **kwargs: Any) -> str:
        """JSON text of :meth:`to_dict`; keyword arguments go to :func:`json.dumps`."""
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WeibullFit:
        """Rebuild a result from :meth:`to_dict` output (the JSON round trip)."""
        names = {f.name for f in fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown WeibullFit fields: {sorted(unknown)}")
        return cls(**dict(data))

    def to_row(self) -> dict[str, Any]:
        """Flat row for a tidy table: options become ``option_<name>`` columns."""
        row: dict[str, Any] = {name: getattr(self, name) for name in FIT_COLUMNS}
        row.update({
            "converged": self.converged,
            "r2": self.r2,
            "shape_se": self.shape_se,
            "scale_se": self.scale_se,
            "iterations": self.iterations,
            "omitted_masked": self.n_omitted.get("masked", 0),
            "omitted_nonfinite": self.n_omitted.get("nonfinite", 0),
            "omitted_zeros": self.n_omitted.get("zeros", 0),
        })
        for key, value in self.options.items():
            row[f"option_{key}"] = json.dumps(jsonable(value)) if isinstance(value, tuple) else value
        row["package_version"] = self.package_version
        return row

    def to_series(self) -> pd.Series:
        """The tidy row as a :class:`pandas.Series`."""
        import pandas as pd  # imported on use: the command line's --help loads no pandas

        return pd.Series(self.to_row())

    # ------------------------------------------------------------------ the law
    def distribution(self) -> rv_continuous_frozen:
        """``scipy.stats.weibull_min(c=shape, scale=scale)``: the fitted law."""
        from scipy import stats  # imported on use: the command line's --help loads no scipy

        return stats.weibull_min(c=self.shape, scale=self.scale)

    def plot(self, x: Any, ax: Any = None, *, kind: str = "probability", **kwargs: Any) -> Any:
        """Plot this fit against its data ``x`` (a fit does not keep its sample); return the Figure.

        ``x`` must be the data that were fitted (or their :class:`~weibull_stats.Sample`):
        other data raise a :class:`ValueError` saying how they differ (their size, omitted
        values, or smallest and largest magnitude; :func:`check_fitted_data`).

        ``kind`` is ``"probability"`` (Weibull probability plot: percent-scaled axis, ``|w|`` on
        a log axis over the whole sample, pointwise band, order-statistic scores), ``"qq"``,
        ``"pp"``, ``"cdf"``,
        ``"hist"`` (histogram with the fitted pdf) or ``"diagnostics"`` (those four in one
        figure). Delegates to :func:`weibull_stats.plotting.plot_fit`; matplotlib is imported
        only when this is called.
        """
        # the plot layer sits above the results; matplotlib is optional (import-linter exempts this)
        from weibull_stats.plotting import plot_fit

        return plot_fit(x, self, kind, ax, **kwargs)

    # ------------------------------------------------------------------ display
    # one line for repr, a small table for str and the notebook (weibull_stats.core.display)
    __repr__, __str__, _repr_html_, _repr_markdown_ = display_methods(fit_summary)


def check_fitted_data(fit: WeibullFit, sample: Any, name: str = "x") -> None:
    """Refuse a checked sample that is not the data ``fit`` was fitted on.

    The fit records what identifies its data at no cost to the fit: ``n``, ``n_omitted``
    and :attr:`~WeibullFit.data_range` (the sample's smallest and largest magnitude, found
    by the input check). A sample that differs in any of them is other data; one that
    agrees in all is taken as the fitted data (a different array of the same size,
    omissions, minimum and maximum is not caught).

    Raises
    ------
    ValueError
        One line naming ``name`` and what differs.

    Examples
    --------
    >>> import numpy as np
    >>> import weibull_stats as ws
    >>> x = np.random.default_rng(0).weibull(1.5, 1000)
    >>> fit = ws.fit_mle(x)
    >>> check_fitted_data(fit, ws.as_sample(x))
    >>> check_fitted_data(fit, ws.as_sample(x[:500]))
    Traceback (most recent call last):
    ...
    ValueError: `x` is not the data of this mle fit: it has 500 values, the fitted data 1000; pass the
    fitted data
    """
    reason = ""
    omitted = [(k, int(v), int(fit.n_omitted.get(k, 0))) for k, v in sample.n_omitted.items()]
    if sample.n != fit.n:
        reason = f"it has {sample.n} values, the fitted data {fit.n}"
    elif any(given != fitted for _, given, fitted in omitted):
        reason = ", ".join(f"{given} of its values omitted as {kind}, {fitted} of the fitted data's"
                           for kind, given, fitted in omitted if given != fitted)
    elif fit.data_range is not None and (sample.low, sample.high) != fit.data_range:
        reason = (f"its magnitudes span [{sample.low:.10g}, {sample.high:.10g}], the fitted data's "
                  f"[{fit.data_range[0]:.10g}, {fit.data_range[1]:.10g}]")
    if reason:
        raise ValueError(f"`{name}` is not the data of this {fit.estimator} fit: {reason}; "
                         "pass the fitted data")
