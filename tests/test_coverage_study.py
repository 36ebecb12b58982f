"""The committed coverage study (validation/results/coverage_*) against what the package says:
every systematic miss is declared as a caveat of its estimator (so the scan's
``interval_warning`` says so), every caveat rests on a miss of the study, and the study covers
the laws, sizes and replicates it promises."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import weibull_stats as ws
from weibull_stats.validation import coverage, coverage_laws, coverage_table

RESULTS = Path(__file__).resolve().parents[1] / "validation" / "results"


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(RESULTS / f"{name}.csv", comment="#", keep_default_na=False, na_values={"": []})


def test_the_committed_study_has_every_law_storage_and_size():
    frame = coverage.read_coverage(RESULTS)[0]
    rows = frame[frame["method"] == "asymptotic"]
    for population, spec in coverage_laws.LAWS.items():
        for storage in spec.storages:
            for n, reps in coverage.ASYMPTOTIC_REPS[storage].items():
                here = (rows["population"] == population) & (rows["storage"] == storage)
                cell = rows[here & (rows["n"] == n)]
                assert len(cell) == 2 * len(ws.ESTIMATORS), (population, storage, n)
                assert set(cell["reps"]) == {reps}, (population, storage, n)


def test_the_misses_table_is_the_one_the_study_gives():
    frame = coverage.read_coverage(RESULTS)[0]
    expected = coverage_table.misses(frame)
    written = _read("coverage_misses")
    assert len(written) == len(expected)
    assert list(written["systematic"].astype(str)) == list(expected["systematic"].astype(str))


def _systematic() -> list[tuple[str, str, int, str, str]]:
    frame = coverage.read_coverage(RESULTS)[0]
    found = coverage_table.misses(frame)
    found = found[found["systematic"]]
    return [(r.estimator, r.storage, int(r.n), r.population, r.parameter) for r in found.itertuples()]


@pytest.mark.parametrize(("estimator", "storage", "n", "population", "parameter"), _systematic())
def test_every_systematic_miss_is_a_declared_caveat(estimator, storage, n, population, parameter):
    entry = ws.ESTIMATORS[estimator]
    assert any(c.applies(n, storage) for c in entry.caveats), (
        f"{estimator} on {population} in {storage} at n = {n}: {parameter} misses nominal beyond chance, "
        "but the estimator declares no caveat there")


@pytest.mark.parametrize("estimator", sorted(ws.ESTIMATORS))
def test_every_caveat_rests_on_a_miss_of_the_study(estimator):
    misses = _read("coverage_misses")
    for caveat in ws.ESTIMATORS[estimator].caveats:
        rows = misses[(misses["estimator"] == estimator) & (misses["n"] >= caveat.from_n)]
        rows = rows[[caveat.applies(int(n), s) for n, s in zip(rows["n"], rows["storage"], strict=True)]]
        assert len(rows), f"{estimator}: caveat {caveat.text!r} has no miss in the committed study"


def test_every_caveat_reaches_the_interval_warning():
    # a sample each declared caveat covers, drawn from the study's own law and storage
    declared = [(name, c) for name, e in ws.ESTIMATORS.items() for c in e.caveats]
    if not declared:  # then the study has nothing beyond chance to warn about
        assert not _systematic()
    for name, caveat in declared:
        storage = "bfloat16" if caveat.storages is None or "bfloat16" in caveat.storages else "float64"
        n = max(caveat.from_n, 1000)
        sample = coverage_laws.draw_sample("halfnormal", storage, np.random.default_rng(3), n)
        with pytest.warns(ws.UnreliableIntervalWarning, match="asymptotic interval"):
            result = ws.confidence_interval(sample, name, **coverage_laws.law_options(name))
        assert result.warning is not None and caveat.text in result.warning
        # the caveats describe the default errors; a sample below from_n does not carry it
        small = coverage_laws.draw_sample("halfnormal", storage, np.random.default_rng(3), 1000)
        if caveat.from_n > 1000:
            quiet = ws.confidence_interval(small, name, **coverage_laws.law_options(name))
            assert quiet.warning is None or caveat.text not in quiet.warning
