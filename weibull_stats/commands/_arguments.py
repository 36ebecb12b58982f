"""The flags shared by several subcommands, their names and defaults chosen once here.

Every command that fits data takes the same input policy with the same defaults as the
Python API (:data:`weibull_stats.core.options.DEFAULT_POLICY`): signed weights
(``--values weights``, ``|w|`` is fitted), zeros left out and counted (``--zeros omit``),
NaN and infinite values an error (``--nonfinite error``). The default estimator is the
API's, :data:`weibull_stats.estimators.registry.DEFAULT_ESTIMATOR`, everywhere; threads
are ``--jobs`` everywhere, and estimator options are ``--option NAME=VALUE`` everywhere.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from weibull_stats.commands._input import load_array
from weibull_stats.commands._options import option_help, parse_options
from weibull_stats.commands.errors import CommandLineError
from weibull_stats.core.checks import SWITCH
from weibull_stats.core.options import DEFAULT_POLICY, POLICY_CHOICES, VALUES_CHOICES
from weibull_stats.estimators.registry import DEFAULT_ESTIMATOR, ESTIMATORS
from weibull_stats.sample.storage import BIT_FORMATS
from weibull_stats.scanning.settings import SETTINGS, Setting


# ---------------------------------------------------------------------- value types
def positive_int(text: str) -> int:
    """An argparse type: an integer >= 1."""
    return _int_at_least(text, 1)


def non_negative_int(text: str) -> int:
    """An argparse type: an integer >= 0."""
    return _int_at_least(text, 0)


def _int_at_least(text: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}; got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}; got {value}")
    return value


def confidence_level(text: str) -> float:
    """An argparse type: a number strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number between 0 and 1; got {text!r}") from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"must lie strictly between 0 and 1; got {value:g}")
    return value


def setting_type(setting: Setting) -> Any:
    """An argparse type of a declared setting: the text parsed and checked by the setting's own
    check; a bad value is a usage error naming the flag and stating the range."""

    def parse(text: str) -> Any:
        try:
            return setting.checked(getattr(setting.check, "parse", str)(text))
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {setting.requirement}; got {text}") from None

    return parse


# ---------------------------------------------------------------------- flags
def add_setting_argument(parser: argparse.ArgumentParser, setting: Setting) -> None:
    """The flag of a declared setting (:mod:`weibull_stats.scanning.settings`): its default, its
    help with the range it must lie in, its check as the argparse type."""
    assert setting.flag is not None
    if setting.check is SWITCH:
        action: Any = "store_true" if not setting.default else argparse.BooleanOptionalAction
        parser.add_argument(setting.flag, dest=setting.name, action=action, default=setting.default,
                            help=f"{setting.help} (default: {'on' if setting.default else 'off'})")
        return
    choices = getattr(setting.check, "choices", ())
    text = setting.help.replace("%", "%%")
    if choices and setting.metavar:  # choices too long for the usage line: named, listed in the help
        parser.add_argument(setting.flag, dest=setting.name, default=setting.default, choices=choices,
                            metavar=setting.metavar,
                            help=f"{text}; one of {', '.join(choices)} (default: %(default)s)")
    elif choices:
        parser.add_argument(setting.flag, dest=setting.name, default=setting.default, choices=choices,
                            help=f"{text} (default: %(default)s)")
    else:
        parser.add_argument(setting.flag, dest=setting.name, default=setting.default, metavar=setting.metavar,
                            type=setting_type(setting),
                            help=f"{text}; {setting.requirement} (default: %(default)s)")


def add_array_arguments(parser: argparse.ArgumentParser, *, repeatable: bool) -> None:
    """The flags of the commands that fit one array (fit, gof, bootstrap): its input
    (:func:`add_input_arguments`) and the fitting flags (:func:`add_fitting_arguments`)."""
    add_input_arguments(parser)
    add_fitting_arguments(parser, repeatable=repeatable)


def add_monte_carlo_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of the one-array Monte Carlo commands (gof, bootstrap): the array and its one
    estimator (:func:`add_array_arguments`), ``--seed``, ``--jobs``, ``--progress`` and ``--format``
    (:func:`add_random_arguments`)."""
    add_array_arguments(parser, repeatable=False)
    add_random_arguments(parser)


def add_input_arguments(parser: argparse.ArgumentParser) -> None:
    """``PATH``, ``--key``, ``--mask`` and ``--storage`` of the one-array commands."""
    parser.add_argument("path", metavar="PATH",
                        help="a .npy file (any shape, float dtype) or a .npz file with one array "
                        "(or choose it with --key)")
    parser.add_argument("--key", metavar="NAME", default=None,
                        help="the array of a .npz file to fit (default: its only array)")
    parser.add_argument("--mask", metavar="NAME", default=None,
                        help="a boolean array of the same .npz file and shape, True where a value "
                        "is left out (as numpy.ma); the masked count is recorded (default: no mask)")
    parser.add_argument("--storage", choices=tuple(BIT_FORMATS), default=None, metavar="FORMAT",
                        help="read the array's 16-bit or 8-bit words (an ml_dtypes array saved with "
                        "numpy.save has dtype |V2 or |V1; or a uint16/int8 view) as this float format, "
                        f"{', '.join(BIT_FORMATS)}; "
                        "8-bit floats are widened exactly to float32, and gof and parametric bootstraps "
                        "refuse them (their Monte Carlo samples are not drawn on the FP8 grid yet) "
                        "(default: float arrays as they are; integer arrays are refused)")


def add_policy_arguments(parser: argparse.ArgumentParser) -> None:
    """``--values``, ``--zeros`` and ``--nonfinite``: the bad-input policy, same defaults everywhere."""
    choices_of = {"values": VALUES_CHOICES, "zeros": POLICY_CHOICES, "nonfinite": POLICY_CHOICES}
    for name, choices in choices_of.items():
        parser.add_argument(f"--{name}", choices=choices, default=DEFAULT_POLICY[name],
                            help=f"{SETTINGS[name].help} (default: %(default)s)")


#: Settings whose flags every fitting command shares (:func:`add_fitting_arguments`).
FITTING_SETTINGS: tuple[str, ...] = ("estimators", "options", "values", "zeros", "nonfinite")


def add_fitting_arguments(parser: argparse.ArgumentParser, *, repeatable: bool) -> None:
    """The flags of every command that fits data (:data:`FITTING_SETTINGS`): ``--estimator``
    (repeatable where the command fits several), ``--option`` and the input policy."""
    add_estimator_argument(parser, repeatable=repeatable)
    add_option_argument(parser)
    add_policy_arguments(parser)


def add_estimator_argument(parser: argparse.ArgumentParser, *, repeatable: bool) -> None:
    """``--estimator NAME`` (repeatable, with ``all``, where a command fits several)."""
    names = ", ".join(ESTIMATORS)
    if repeatable:
        parser.add_argument("--estimator", action="append", metavar="NAME", default=None,
                            help=f"registered estimator ({names}) or 'all'; repeatable "
                            f"(default: {DEFAULT_ESTIMATOR})")
    else:
        parser.add_argument("--estimator", choices=tuple(ESTIMATORS), metavar="NAME",
                            default=DEFAULT_ESTIMATOR,
                            help=f"registered estimator ({names}) (default: %(default)s)")


def add_option_argument(parser: argparse.ArgumentParser) -> None:
    """``--option NAME=VALUE``, repeatable: the estimator's own options."""
    parser.add_argument(
        "--option", action="append", metavar="NAME=VALUE", default=None,
        help="an estimator option, repeatable, e.g. --option trim=0.05,0.95 --option "
        "plotting_position=hazen; tuples are comma-separated numbers, histogram edges also "
        f"START:STOP:BINS, edges=none the paper's 1024 bins over [-12, 2] (defaults: {option_help()})"
        .replace("%", "%%"),
    )


def add_progress_argument(parser: argparse.ArgumentParser) -> None:
    """``--progress`` / ``--no-progress``: a bar with the time left on stderr."""
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="a progress bar with the time left on stderr (default: shown when stderr "
                        "is a terminal, not in a log or a pipe)")


def add_jobs_argument(parser: argparse.ArgumentParser) -> None:
    """``--jobs N`` threads (the result does not depend on it); ``--workers`` is its old name."""
    parser.add_argument("--jobs", type=positive_int, default=None, metavar="N",
                        help="threads of this one process (scan --jobs counts worker processes); the result "
                        "does not depend on it (default: every CPU)")
    parser.add_argument("--workers", type=positive_int, dest="jobs", action=DeprecatedAlias,
                        help=argparse.SUPPRESS)


def add_random_arguments(parser: argparse.ArgumentParser) -> None:
    """``--seed``, ``--jobs``, ``--progress`` and ``--format`` of the Monte Carlo commands."""
    parser.add_argument("--seed", type=non_negative_int, default=None, metavar="S",
                        help="root seed; the same seed gives the same output bytes "
                        "(default: fresh entropy, printed in the output)")
    add_jobs_argument(parser)
    add_progress_argument(parser)
    add_format_argument(parser)


def add_format_argument(parser: argparse.ArgumentParser) -> None:
    """``--format table|json``."""
    parser.add_argument("--format", choices=("table", "json"), default="table",
                        help="a text table or JSON on stdout (default: %(default)s)")


class DeprecatedAlias(argparse.Action):
    """A flag kept under an old name: stores into the new one and notes the deprecation.

    The note goes to ``namespace.deprecations``; the command line shows each as a one-line
    warning.
    """

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        setattr(namespace, self.dest, values)
        notes = list(getattr(namespace, "deprecations", []))
        notes.append(f"{option_string} is deprecated; use --{self.dest.replace('_', '-')}")
        namespace.deprecations = notes


# ---------------------------------------------------------------------- helpers
def load_input(args: argparse.Namespace, *, null_draws: bool = False) -> Any:
    """The array named by ``PATH``, ``--key``, ``--mask`` and ``--storage``.

    ``null_draws``: the command draws Monte Carlo samples from the fitted law (a test, a
    parametric bootstrap), which are drawn on the grid of the data's storage; 8-bit float
    storage has no such null yet, so it is refused rather than tested against a wrong null.
    """
    storage = args.storage
    if null_draws and storage is not None and BIT_FORMATS[storage].itemsize == 1:
        raise CommandLineError(
            f"--storage {storage}: Monte Carlo samples of 8-bit float data are not drawn on the FP8 grid "
            "yet, so they would test the rounding, not the Weibull law; use `weibull-stats fit`, "
            "`bootstrap --kind nonparametric` or `gof --n-mc-samples 0`")
    return load_array(args.path, key=args.key, mask=args.mask, storage=storage)


def policy(args: argparse.Namespace) -> dict[str, str]:
    """``{values, zeros, nonfinite}`` as given on the command line."""
    return {"values": args.values, "zeros": args.zeros, "nonfinite": args.nonfinite}


def estimator_keywords(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Each chosen estimator's keywords for its library call: its ``--option`` values and the
    input policy (the flags of :func:`add_fitting_arguments`).

    The estimators are the one ``--estimator`` of a command that fits with one, or those of the
    repeatable flag (``all`` expanded, repeats dropped, in order).
    """
    one = isinstance(args.estimator, str)
    names = [args.estimator] if one else selected_estimators(args.estimator)
    options = parse_options(args.option, names)
    return {name: {**options[name], **policy(args)} for name in names}


def fitting_input(args: argparse.Namespace, *,
                  null_draws: bool = False) -> tuple[Any, dict[str, dict[str, Any]]]:
    """The array of a one-array command (:func:`load_input`) and each chosen estimator's keywords
    (:func:`estimator_keywords`); the options are checked first, so a bad ``--option`` costs no read."""
    keywords = estimator_keywords(args)
    return load_input(args, null_draws=null_draws), keywords


def monte_carlo_input(args: argparse.Namespace, *, null_draws: bool) -> tuple[Any, dict[str, Any]]:
    """The array of a Monte Carlo command (:func:`add_monte_carlo_arguments`) and the keywords of
    its library call: the ``--option`` values of its one estimator, the input policy, and ``rng``,
    ``workers`` and ``progress`` from ``--seed``, ``--jobs`` and ``--progress``."""
    data, keywords = fitting_input(args, null_draws=null_draws)
    random = {"rng": args.seed, "workers": args.jobs, "progress": args.progress}
    return data, {**keywords[args.estimator], **random}


def selected_estimators(names: Sequence[str] | None) -> list[str]:
    """Expand ``all`` and drop repeats, keeping order; unknown names are errors."""
    chosen: list[str] = []
    for name in names or [DEFAULT_ESTIMATOR]:
        for item in ESTIMATORS if name == "all" else [name]:
            if item not in ESTIMATORS:
                raise CommandLineError(f"--estimator {item}: unknown estimator {item!r}; "
                                 f"registered: {', '.join(ESTIMATORS)}, all")
            if item not in chosen:
                chosen.append(item)
    return chosen
