"""The scan's settings, declared once: :data:`SCAN_SETTINGS`.

Each :class:`Setting` holds a name (the keyword of :func:`weibull_stats.scan`), its default,
its check (which names the setting in its error and, for a range, states the range), a line
of help and the command-line flag. Everything that shows a setting reads it from here:

* :func:`check_settings` checks a scan's settings once, before anything runs, and returns the
  frozen :class:`ScanSettings`, the settings that determine the numbers (``recorded``);
* ``run.json``, the journal header and ``frame.attrs["settings"]`` hold
  :meth:`ScanSettings.to_dict`, keyed by the keywords of :func:`weibull_stats.scan`, and
  :func:`read_settings` reads them back (``weibull-stats report DIR``);
* ``weibull-stats scan`` builds its flags, defaults and help (with each range) from the
  declaration (:mod:`weibull_stats.commands.scan`), and the report states the flags.

:func:`weibull_stats.scan` keeps its explicit signature, for IDEs and the docs; a test checks
its defaults and the parser's against this declaration.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from weibull_stats.core.checks import SWITCH, Check, between, integer, one_of
from weibull_stats.core.constants import ANCHORS, DEFAULT_ANCHOR
from weibull_stats.core.formatting import option_text
from weibull_stats.core.options import DEFAULT_POLICY, POLICY_CHOICES, VALUES_CHOICES
from weibull_stats.estimators.registry import DEFAULT_ESTIMATOR, get_estimator, options_by_estimator

#: Bootstrap intervals a scan can compute (as :func:`weibull_stats.bootstrap`'s ``method``).
BOOTSTRAP_METHODS: tuple[str, ...] = ("percentile", "basic", "bca")
#: What each matrix's interval columns hold: the estimator's asymptotic interval, or none.
INTERVAL_CHOICES: tuple[str, ...] = ("asymptotic", "none")
#: ``statsmodels.stats.multitest.multipletests`` methods a scan can correct with.
MULTIPLE_TESTING_METHODS: tuple[str, ...] = ("fdr_bh", "fdr_by", "holm", "bonferroni", "sidak", "holm-sidak")


def _paths(value: Any, name: str) -> tuple[str, ...]:
    paths = [value] if isinstance(value, str | Path) else list(value)
    if not paths:
        raise ValueError(f"`{name}` is empty; give at least one checkpoint")
    return tuple(str(p) for p in paths)


def _estimators(value: Any, name: str) -> tuple[str, ...]:
    chosen: list[str] = []
    for estimator in [value] if isinstance(value, str) else list(value):
        get_estimator(estimator)
        if estimator not in chosen:
            chosen.append(estimator)
    if not chosen:
        raise ValueError(f"`{name}` is empty; give at least one registered estimator")
    return tuple(chosen)


def _options_later(value: Any, name: str) -> Any:  # check_settings checks them against the estimators
    return value


# ---------------------------------------------------------------------- the declaration
class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


#: Marks a setting without a default (the checkpoints to scan).
REQUIRED: Any = _Required()


@dataclass(frozen=True, slots=True)
class Setting:
    """One setting of a scan.

    Attributes
    ----------
    name : str
        The keyword of :func:`weibull_stats.scan` and the key in ``run.json``.
    default : object
        The value when not given (:data:`REQUIRED`: none).
    check : callable
        ``check(value, name)``: the value accepted, or a :class:`ValueError` naming ``name``;
        a :class:`Check` states its range too.
    help : str
        One line of help (``--help`` adds the range and the default).
    flag : str or None
        The command-line flag (None: a positional argument).
    metavar : str or None
        The flag's value in ``--help``; for a setting with choices, a name in place of the list
        of choices (too long for the usage line), which the help then lists.
    recorded : bool
        Whether it determines the numbers: then it is in :class:`ScanSettings`, ``run.json``,
        the journal header, the report, and ``--resume`` must match it.
    """

    name: str
    default: Any
    check: Callable[[Any, str], Any]
    help: str
    flag: str | None
    metavar: str | None = None
    recorded: bool = True

    @property
    def requirement(self) -> str:
        """What a value must be ("" where the check states nothing, as for estimator names)."""
        return self.check.requirement if isinstance(self.check, Check) else ""

    def checked(self, value: Any) -> Any:
        """``value`` checked (and converted), or a :class:`ValueError` naming the setting."""
        return self.check(value, self.name)

    def as_flags(self, value: Any) -> list[str]:
        """The command-line words that give ``value`` (none for a switch that is off)."""
        if self.flag is None:
            return []
        if self.check is SWITCH:
            return [self.flag] if value else []
        if isinstance(value, tuple | list):
            return [word for item in value for word in (self.flag, option_text(item))]
        return [self.flag, option_text(value)]


SCAN_SETTINGS: tuple[Setting, ...] = (
    Setting("paths", REQUIRED, _paths,
            "checkpoint(s) or cached Hugging Face id(s); several make a trajectory", None, "PATH"),
    Setting("estimators", (DEFAULT_ESTIMATOR,), _estimators,
            "registered estimator, or 'all'; every matrix is fitted with each", "--estimator", "NAME"),
    Setting("options", None, _options_later,
            "estimator options, each to every chosen estimator that takes it", "--option", "NAME=VALUE"),
    Setting("values", DEFAULT_POLICY["values"], one_of(VALUES_CHOICES),
            "'weights' fits |w| of signed data; with 'magnitudes' a negative value is an error", "--values"),
    Setting("zeros", DEFAULT_POLICY["zeros"], one_of(POLICY_CHOICES),
            "zeros have no logarithm: 'omit' leaves them out and counts them in the output, 'error' "
            "refuses the data", "--zeros"),
    Setting("nonfinite", DEFAULT_POLICY["nonfinite"], one_of(POLICY_CHOICES),
            "NaN and infinite values: 'error' refuses the data, 'omit' leaves them out and counts them "
            "in the output", "--nonfinite"),
    Setting("bootstrap", 0, integer(0),
            "bootstrap resamples for intervals of shape and scale (the bootstrap_* columns), in addition "
            "to --intervals; 0: no bootstrap intervals (the --intervals ones stay)",
            "--bootstrap", "B"),
    Setting("bootstrap_method", "percentile", one_of(BOOTSTRAP_METHODS),
            "the bootstrap interval: percentile, basic, or bca (bias-corrected and accelerated, 50 "
            "jackknife fits more per matrix)", "--bootstrap-method"),
    Setting("intervals", "asymptotic", one_of(INTERVAL_CHOICES),
            "each matrix's interval of shape and scale: its estimator's asymptotic interval (a few "
            "percent of the fit), or none", "--intervals"),
    Setting("confidence_level", 0.95, between(0, 1), "coverage of the intervals (asymptotic and bootstrap)",
            "--confidence-level", "LEVEL"),
    Setting("equivalence_level", 0.05, between(0, 0.5),
            "level of each of the two one-sided tests of the verdicts against the published bands "
            "(inside: the 1 - 2 ALPHA interval of k lies within the band)", "--equivalence-level", "ALPHA"),
    Setting("fdr", 0.05, between(0, 1),
            "false discovery rate at which the report counts matrices departing from the Weibull law "
            "(adjusted --gof p-values below it)", "--fdr", "Q"),
    Setting("multiple_testing", "fdr_bh", one_of(MULTIPLE_TESTING_METHODS),
            "statsmodels multipletests correction of the p-values across the matrices of a checkpoint "
            "(fdr_bh: Benjamini-Hochberg)", "--multiple-testing", "METHOD"),
    Setting("anchor", DEFAULT_ANCHOR, one_of(tuple(ANCHORS)),
            "the initialisation whose anchor k0 the report's k - k0 and the figures' anchor line use: "
            "halfnormal (i.i.d. Gaussian weights, the paper's) or uniform (|Uniform|: kaiming-uniform, "
            "torch.nn.Linear's default)", "--anchor"),
    Setting("gof", False, SWITCH, "Anderson-Darling goodness of fit with parametric-bootstrap p-values",
            "--gof"),
    Setting("gof_samples", 99, integer(1),
            "Monte Carlo samples of each --gof p-value, refitted with the same estimator; the smallest "
            "p-value is 1/(M+1)", "--gof-samples", "M"),
    Setting("seed", 0, integer(0), "root seed of the bootstrap and GoF streams, one child stream per "
            "tensor; the same seed gives the same output bytes", "--seed", "S"),
    Setting("include_vectors", False, SWITCH, "also fit 1-D tensors (biases, norms)", "--include-vectors"),
    Setting("jobs", 1, integer(1), "worker processes; the result does not depend on it", "--jobs", "N",
            recorded=False),
    Setting("matrix_plots", False, SWITCH,
            "the report also draws the probability plots of one matrix per kind, each re-read from the "
            "checkpoint (seconds per GB of weights); its other figures summarise per kind and layer",
            "--matrix-plots", recorded=False),
)
#: The declaration by name.
SETTINGS: Mapping[str, Setting] = MappingProxyType({s.name: s for s in SCAN_SETTINGS})
#: The input policy of every fit of a scan (its declared defaults): signed weights (``|w|`` is
#: fitted), zeros left out and counted, NaN and infinite values an error.
POLICY_SETTINGS: tuple[str, ...] = ("values", "zeros", "nonfinite")
FIT_OPTIONS: Mapping[str, Any] = MappingProxyType({name: SETTINGS[name].default for name in POLICY_SETTINGS})


# ---------------------------------------------------------------------- the checked settings
@dataclass(frozen=True, slots=True)
class ScanSettings:
    """The recorded settings of :data:`SCAN_SETTINGS`, checked: what determines a scan's numbers.

    Made by :func:`check_settings` (or :func:`read_settings` from a run record); recorded
    in ``run.json`` and the journal. A resumed scan must use the same settings as the
    journal it continues.
    """

    paths: tuple[str, ...]
    estimators: tuple[str, ...]
    #: ``{estimator: {option: value}}``: the estimator options given (the rest are defaults)
    options: Mapping[str, Mapping[str, Any]]
    values: str
    zeros: str
    nonfinite: str
    bootstrap: int
    bootstrap_method: str
    intervals: str
    confidence_level: float
    equivalence_level: float
    fdr: float
    multiple_testing: str
    #: the key of the anchor in :data:`weibull_stats.core.constants.ANCHORS`
    anchor: str
    gof: bool
    gof_samples: int
    seed: int
    include_vectors: bool

    @property
    def policy(self) -> dict[str, str]:
        """``{values, zeros, nonfinite}``: the input policy of every fit."""
        return {name: getattr(self, name) for name in POLICY_SETTINGS}

    def fit_options(self, estimator: str) -> dict[str, Any]:
        """The keyword options of every fit of ``estimator``: the policy and its options."""
        return {**self.policy, **self.options.get(estimator, {})}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings (tuples as lists), as ``run.json`` and the journal record them."""
        data = asdict(self)
        data["paths"] = list(self.paths)
        data["estimators"] = list(self.estimators)
        data["options"] = json.loads(json.dumps({k: dict(v) for k, v in self.options.items()},
                                                default=_jsonable))
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScanSettings:
        """The settings of :meth:`to_dict` output (``run.json``, ``frame.attrs``), checked."""
        return read_settings(data)[0]

    def flags(self) -> str:
        """The settings as ``weibull-stats scan`` flags (but the paths and the estimator options)."""
        return " ".join(word for setting in SCAN_SETTINGS if setting.recorded and setting.name != "options"
                        for word in setting.as_flags(getattr(self, setting.name)))


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray | tuple):
        return np.asarray(value).tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"option value {value!r} cannot be recorded as JSON")


def check_settings(**given: Any) -> ScanSettings:
    """Check a scan's settings (keywords of :data:`SCAN_SETTINGS`); the recorded ones, frozen.

    Settings not given take their declared default; ``paths`` must be given. Unrecorded
    settings (``jobs``) are checked too. Each error names the setting.

    Examples
    --------
    >>> settings = check_settings(paths="model.safetensors", fdr=0.1)
    >>> settings.fdr, settings.equivalence_level, settings.estimators
    (0.1, 0.05, ('probability_plot',))
    >>> check_settings(paths="m", equivalence_level=0.5)
    Traceback (most recent call last):
    ...
    ValueError: `equivalence_level` must be a number strictly between 0 and 0.5; got 0.5
    """
    unknown = sorted(set(given) - set(SETTINGS))
    if unknown:
        raise TypeError(f"unknown scan setting `{unknown[0]}`; the settings are {', '.join(SETTINGS)}")
    if "paths" not in given:
        raise TypeError("`paths` must be given: the checkpoints to scan")
    values = {s.name: s.checked(given.get(s.name, s.default)) for s in SCAN_SETTINGS}
    values["options"] = options_by_estimator(values["options"], values["estimators"])
    return ScanSettings(**{f.name: values[f.name] for f in fields(ScanSettings)})


def read_settings(data: Mapping[str, Any]) -> tuple[ScanSettings, tuple[str, ...]]:
    """The checked settings of a run record, and a note for each setting it lacked.

    A record written before a setting was declared lacks it: ``policy`` (one object before
    ``values``, ``zeros`` and ``nonfinite`` were settings of their own) is read as those
    three; a missing ``equivalence_level`` is the record's ``fdr`` (one setting until the
    two were split, the level of its equivalence verdicts); any other missing setting takes
    its declared default. The notes say which, for the reader to say so. A key that is no
    recorded setting, or a missing ``paths``, is an error.

    Examples
    --------
    >>> settings, notes = read_settings({"paths": ["m"], "estimators": ["mle"], "fdr": 0.1})
    >>> settings.equivalence_level, notes[0]
    (0.1, '`equivalence_level` 0.1 (its `fdr`, one setting before)')
    """
    raw = dict(data)
    notes: list[str] = []
    legacy_policy = raw.pop("policy", None)
    if isinstance(legacy_policy, Mapping):
        raw = {**legacy_policy, **raw}
    if "equivalence_level" not in raw and "fdr" in raw:
        raw["equivalence_level"] = raw["fdr"]
        notes.append(f"`equivalence_level` {raw['fdr']!r} (its `fdr`, one setting before)")
    recorded = [s for s in SCAN_SETTINGS if s.recorded]
    unknown = sorted(set(raw) - {s.name for s in recorded})
    if unknown:
        raise ValueError(f"unknown setting `{unknown[0]}`")
    for setting in recorded:
        if setting.name not in raw:
            if setting.default is REQUIRED:
                raise ValueError(f"no `{setting.name}`")
            notes.append(f"`{setting.name}` {setting.default!r} (the default)")
    return check_settings(**raw), tuple(notes)


__all__ = ["BOOTSTRAP_METHODS", "FIT_OPTIONS", "INTERVAL_CHOICES", "MULTIPLE_TESTING_METHODS",
           "POLICY_SETTINGS", "REQUIRED", "SCAN_SETTINGS", "SETTINGS", "SWITCH", "Check", "ScanSettings",
           "Setting", "between", "check_settings", "integer", "one_of", "read_settings"]
