"""What validation, reports and plots need from an estimator is declared on its record.

Outside ``weibull_stats/estimators/`` no code branches on an estimator's name or keeps a
table keyed by it; a new estimator with the declarations is picked up by the validation
tables and studies without any other edit.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mpmath as mp
import pytest

import weibull_stats as ws
from weibull_stats.estimators import registry
from weibull_stats.estimators._core import Estimator
from weibull_stats.estimators._population_hook import KnownLimit, PopulationHook
from weibull_stats.estimators.log_moment import (
    fit_log_moment,
    log_moment_bias,
    log_moment_kernel,
    log_moment_population,
)
from weibull_stats.validation import anchors, checks, coverage_laws, simulation, stored, studies
from weibull_stats.validation.populations import HALFNORMAL

PACKAGE = Path(__file__).resolve().parents[1] / "weibull_stats"
NAMES = frozenset(ws.ESTIMATORS)
#: Calls whose string argument is a look-up or a test of a name.
LOOKUPS = frozenset({"get", "get_estimator", "startswith", "endswith", "index", "count"})
#: Module constants that may hold a name: the entry points' choice of estimator, not a
#: property of one.
CHOICES = frozenset({"DEFAULT_ESTIMATOR"})


def _is_name(node: ast.AST) -> bool:
    """A string constant that is a registered name, or a name with a bracketed variant."""
    return (isinstance(node, ast.Constant) and isinstance(node.value, str)
            and (node.value in NAMES or node.value.split("[")[0] in NAMES))


def _names_in(node: ast.AST) -> Iterator[ast.AST]:
    """``node`` itself or the elements of a literal container, where they are names."""
    items = node.elts if isinstance(node, ast.Tuple | ast.List | ast.Set) else [node]
    yield from (item for item in items if _is_name(item))


def name_uses(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """``(line, what)`` for every branch on, look-up by or table of an estimator's name."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            for operand in (node.left, *node.comparators):
                yield from ((n.lineno, "comparison") for n in _names_in(operand))
        elif isinstance(node, ast.Dict):
            yield from ((k.lineno, "dict key") for k in node.keys if k is not None and _is_name(k))
        elif isinstance(node, ast.Subscript):
            yield from ((n.lineno, "subscript") for n in _names_in(node.slice))
        elif isinstance(node, ast.MatchValue):
            yield from ((n.lineno, "match") for n in _names_in(node.value))
        elif isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in LOOKUPS:
                yield from ((a.lineno, f"{called}()") for a in node.args if _is_name(a))
    body = tree.body if isinstance(tree, ast.Module) else []
    classes = [n for n in body if isinstance(n, ast.ClassDef)]
    for statement in [*body, *(s for c in classes for s in c.body)]:
        if isinstance(statement, ast.Assign | ast.AnnAssign) and statement.value is not None:
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            chosen = {t.id for t in targets if isinstance(t, ast.Name)} & CHOICES
            if _is_name(statement.value) and not chosen:
                yield statement.lineno, "constant naming an estimator"
            for node in ast.walk(statement.value):
                if isinstance(node, ast.Tuple | ast.List | ast.Set):
                    yield from ((n.lineno, "table of names") for n in _names_in(node))


def test_the_scan_finds_the_patterns_it_looks_for() -> None:
    # the scanner itself: every form it must catch, and a default argument it must not
    source = '''
NAMES = ("mle", "probability_plot")
REFERENCE = "mle"
DEFAULT_ESTIMATOR = "probability_plot"
def f(name, names, table, estimator="mle"):
    if name == "histogram" or "quantile" in names or name in ("mle", "log_moment"):
        return {"mle": 1}, table["quantile"], table.get("mle"), name.startswith("probability_plot[")
    match name:
        case "mle":
            return None
'''
    found = sorted(what for _, what in name_uses(ast.parse(source)))
    assert found == sorted(["table of names"] * 2 + ["comparison"] * 4 + [
        "constant naming an estimator", "dict key", "subscript", "get()", "startswith()", "match"])


def test_no_branch_on_an_estimator_name_outside_the_estimators_package() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "estimators" in path.relative_to(PACKAGE).parts:
            continue
        for line, what in name_uses(ast.parse(path.read_text(), str(path))):
            found.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {what}")
    assert not found, "estimator names used outside estimators/ (declare on the record):\n" + "\n".join(found)


# ---------------------------------------------------------------------- the declarations
class _Recorder:
    """A population that records which of its attributes a hook reads."""

    def __init__(self, population: Any) -> None:
        self._population = population
        self.read: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        self.read.add(name)
        return getattr(self._population, name)


@pytest.mark.parametrize("name", sorted(NAMES))
def test_each_population_hook_reads_what_it_declares(name: str) -> None:
    hook = ws.ESTIMATORS[name].population
    assert hook is not None
    recorder = _Recorder(HALFNORMAL.at_sigma(0.02) if hook.absolute_scale else HALFNORMAL)
    with mp.workdps(15):
        hook(recorder, **hook.option_sets[0])
    assert recorder.read == set(hook.reads)


def test_the_stored_law_target_follows_the_declared_reads() -> None:
    # a rounded law offers the quantile function only: the declared reads decide the route
    for name, entry in ws.ESTIMATORS.items():
        assert entry.population is not None
        target = coverage_laws.coverage_target(name, "halfnormal", "bfloat16")
        quadrature = stored.evaluable_on_rounded_law(entry.population)
        assert target.source.startswith("exact limit") == quadrature, name


def test_one_package_anchor_and_one_maximum_likelihood_estimator() -> None:
    anchor = registry.declared_estimator("package_anchor")
    likelihood = registry.declared_estimator("maximum_likelihood")
    assert [e.name for e in ws.ESTIMATORS.values() if e.package_anchor] == [anchor.name]
    assert [e.name for e in ws.ESTIMATORS.values() if e.maximum_likelihood] == [likelihood.name]
    shape, scale = anchors.default_anchor(anchor.name, HALFNORMAL)
    constants = (ws.HALFNORMAL_ANCHOR_SHAPE, ws.HALFNORMAL_ANCHOR_SCALE)
    assert (shape, scale) == pytest.approx(constants, abs=5e-11)


# ---------------------------------------------------------------------- a new estimator
def _fit_toy(x: Any, /, *, values: str = "magnitudes", nonfinite: str = "error", zeros: str = "error") -> Any:
    return fit_log_moment(x, values=values, nonfinite=nonfinite, zeros=zeros)


def _toy_rows(options: Any) -> list[Any]:
    return [{"flavour": "plain"}]


#: The log-moment fit under another name, with every declaration the suite reads.
TOY = Estimator(
    "toy",
    _fit_toy,
    log_moment_kernel,
    lambda **options: dict(options),
    "a toy: the log-moment fit under another name",
    order_statistics=False,
    population=PopulationHook(
        log_moment_population,
        method="the log-moment derivation, {digits} digits",
        table_options=_toy_rows,
        reads=frozenset({"context", "power_moment_mp"}),
        bias=log_moment_bias,
        bias_options=({"zeros": "omit"},),
        known=(KnownLimit("shape", 2 / math.sqrt(3), 1e-14, "2 / sqrt(3) under HalfNormal"),),
    ),
)


@pytest.fixture
def with_toy(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setitem(registry._REGISTERED, "toy", TOY)
    yield


def test_a_new_estimator_is_picked_up_from_its_declarations(with_toy: None) -> None:
    assert "toy" in ws.ESTIMATORS
    # anchor table: the option rows the hook lists
    rows = anchors.estimator_anchors("toy")
    assert [dict(a.options) for a in rows] == [{"flavour": "plain"}]
    assert rows[0].shape == pytest.approx(2 / math.sqrt(3), abs=1e-14)
    # checks: the declared closed form, the stated precision and the Weibull recovery
    _, found = checks.anchor_checks(["toy"])
    names = [c.name for c in found]
    assert "anchor.closed_form.toy.shape" in names and "anchor.precision.toy" in names
    assert any(n.startswith("anchor.weibull.toy.k=") for n in names) and all(c.passed for c in found)
    # the predicted finite-n bias of the confirmation is the declared one
    predicted = anchors.finite_n_bias("toy", HALFNORMAL, 300)
    assert predicted is not None and predicted[0] > 0
    row = simulation.confirm("toy", HALFNORMAL, 300, 20, seed=1, sigma=0.02)
    assert row.predicted_bias_shape == predicted[0]
    # the finite-n bias study adds the declared option variants, labelled by their values
    bias = studies.finite_n_bias_study(["toy"], seed=1, sizes={200: 20})
    assert list(bias["fit"]) == ["toy", "toy[omit]"]
    assert bias["predicted_n_bias_shape"].notna().tolist() == [True, False]
    # a stored-law target: the hook reads moments, which a rounded law lacks
    target = coverage_laws.coverage_target("toy", "halfnormal", "bfloat16")
    assert target.source.startswith("the estimator on the bfloat16-rounded law")
