"""The quantile-matching kernel: numpy's quantiles, bit for bit, on raw rows and count rows."""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

import weibull_stats as ws
from tests import reference as ref
from weibull_stats.estimators.quantile import (
    ESTIMATOR,
    QUANTILE_METHODS,
    QuantilePlan,
    _lerp,
    line_through_quantile_rows,
    line_through_quantiles,
    order_positions,
    quantile_kernel,
)
from weibull_stats.sample.batch import CountRows, RawRows

PROBABILITIES = [(0.1, 0.9), (0.05, 0.5, 0.95), (0.001, 0.999)]


def quantiles_of(lines, i: int, q: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    return np.array([lines.diagnostics[f"quantile_{j}"][i] for j in range(q)])


@pytest.mark.parametrize("method", QUANTILE_METHODS)
def test_positions_are_numpys(method: str) -> None:
    """``order_positions`` (O(q), numpy's formulas) interpolates exactly as numpy.quantile."""
    rng = np.random.default_rng(1)
    probs = (0.001, 0.01, 0.1, 0.25, 1 / 3, 0.5, 2 / 3, 0.9, 0.99, 0.999)
    for n in [*range(2, 40), 100, 1001, 65_537, *rng.integers(2, 10**6, 8).tolist()]:
        x = np.sort(rng.weibull(1.3, n))
        previous, following, fraction = order_positions(n, probs, method)
        got = _lerp(x[previous], x[following], fraction)
        assert np.array_equal(got, np.quantile(x, np.asarray(probs), method=method)), (method, n)


@pytest.mark.parametrize("method", QUANTILE_METHODS)
@pytest.mark.parametrize("probabilities", PROBABILITIES)
def test_raw_rows_equal_numpy_quantile(method: str, probabilities: tuple[float, ...]) -> None:
    rng = np.random.default_rng(2)
    rows = rng.weibull(1.6, (6, 503)).astype(np.float32)
    before = rows.copy()
    expected = np.quantile(rows.astype(np.float64), probabilities, axis=1, method=method).T
    q = len(probabilities)
    batches = (RawRows(rows), RawRows(np.sort(rows, axis=1), ordered=True), RawRows(rows.copy(), owned=True))
    for batch in batches:
        lines = quantile_kernel(batch, probabilities=probabilities, method=method)
        got = np.array([quantiles_of(lines, i, q) for i in range(6)])
        assert np.array_equal(got, expected)
    assert np.array_equal(rows, before)  # not owned: never reordered in place
    fit = ws.fit_quantile(rows[0], probabilities=probabilities, method=method)
    assert fit.details["quantiles"] == tuple(expected[0].tolist())
    np.testing.assert_allclose([fit.shape, fit.scale], ref.quantile(rows[0], probabilities, method=method),
                               rtol=1e-12)


def sixteen_bit_and_tied() -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    return [
        (rng.weibull(1.2, 100_000) * 0.02).astype(ml_dtypes.bfloat16),
        (rng.weibull(0.8, 30_001) * 2.0).astype(np.float16),
        np.round(rng.weibull(2.0, 5000) * 8) / 8 + 0.125,
        rng.choice([0.5, 1.0, 3.0, 7.0], size=997),
    ]


@pytest.mark.parametrize("method", QUANTILE_METHODS)
@pytest.mark.parametrize("probabilities", PROBABILITIES[:2])
def test_counts_equal_raw(method: str, probabilities: tuple[float, ...]) -> None:
    """Counts and raw samples of the same values: the same quantiles (exactly) and fits."""
    for x in sixteen_bit_and_tied():
        counts = ws.as_sample(x, form="counts")
        raw = ws.as_sample(x.astype(np.float64) if x.dtype.itemsize == 2 else x, form="raw")
        try:
            b = ws.fit_quantile(raw, probabilities=probabilities, method=method)
        except ValueError as error:  # tied data: both forms refuse alike
            with pytest.raises(ValueError, match="not increasing"):
                ws.fit_quantile(counts, probabilities=probabilities, method=method)
            assert "not increasing" in str(error)
            continue
        a = ws.fit_quantile(counts, probabilities=probabilities, method=method)
        assert a.details["quantiles"] == b.details["quantiles"]
        np.testing.assert_allclose([a.shape, a.scale], [b.shape, b.scale], rtol=1e-12, atol=0)


@pytest.mark.parametrize("method", ["linear", "inverted_cdf", "midpoint", "hazen"])
def test_one_sample_is_a_batch_row(method: str) -> None:
    rng = np.random.default_rng(4)
    options = {"probabilities": (0.05, 0.5, 0.95), "method": method}
    rows = rng.weibull(0.9, (9, 801))
    lines = quantile_kernel(RawRows(rows), **options)
    for i in (0, 4, 8):
        single = quantile_kernel(RawRows(rows[i : i + 1]), **options)
        assert np.array_equal(single.pairs[0], lines.pairs[i])
        assert np.array_equal(single.pairs[0], [ws.fit_quantile(rows[i], **options).shape,
                                                ws.fit_quantile(rows[i], **options).scale])
    sample = ws.as_sample((rng.weibull(1.2, 50_000) * 0.1).astype(ml_dtypes.bfloat16))
    assert sample.counts is not None and sample.distinct is not None
    draws = rng.multinomial(sample.size, sample.counts / sample.size, size=12)
    draws[5] = rng.multinomial(777, sample.counts / sample.size)  # a row of another size
    lines = quantile_kernel(CountRows(sample.distinct, draws), **options)
    for i in (0, 5, 11):
        single = quantile_kernel(CountRows(sample.distinct, draws[i : i + 1]), **options)
        assert np.array_equal(single.pairs[0], lines.pairs[i])
        raw = quantile_kernel(RawRows(np.repeat(sample.distinct, draws[i])[None, :]), **options)
        assert np.array_equal(raw.pairs[0], lines.pairs[i])


def test_degenerate_rows_are_undefined_with_todays_message() -> None:
    rows = np.random.default_rng(5).weibull(1.0, (3, 20))
    rows[2] = [1.0] * 19 + [2.0]
    lines = quantile_kernel(RawRows(rows))
    assert np.isnan(lines.shape[2]) and set(lines.reasons) == {2}
    assert lines.reasons[2] == (
        "sample quantiles at (0.1, 0.9) are not increasing ([1.0, 1.0]); "
        "the data have too few distinct values for quantile matching"
    )
    counts = quantile_kernel(CountRows(np.array([1.0, 2.0]), np.array([[19, 1], [10, 10]])))
    assert counts.reasons == {0: lines.reasons[2]} and np.isfinite(counts.shape[1])
    with pytest.raises(ValueError, match=r"not increasing \(\[1\.0, 1\.0\]\)"):
        ws.fit_quantile(rows[2])


def test_rows_line_equals_scalar_line() -> None:
    rng = np.random.default_rng(6)
    for probs in PROBABILITIES:
        q = np.sort(rng.weibull(1.5, (20, len(probs))), axis=1)
        pairs = line_through_quantile_rows(probs, q)
        for i in range(20):
            np.testing.assert_allclose(pairs[i], line_through_quantiles(probs, q[i]), rtol=1e-13)
    assert np.isnan(line_through_quantile_rows((0.1, 0.9), np.array([[2.0, 1.0]]))).all()


@pytest.mark.parametrize("options", [{}, {"method": "inverted_cdf", "probabilities": (0.1, 0.5, 0.9)},
                                     {"method": "midpoint", "probabilities": (0.25, 0.999)}])
def test_plan_equals_the_explicit_resample(options: dict) -> None:
    """The fast path's fit of a resample is the kernel's fit of the count row it stands for."""
    n = 1001
    x = np.sort(np.random.default_rng(7).weibull(1.4, n))
    plan = ESTIMATOR.plan(x, **ESTIMATOR.check(**options))  # type: ignore[misc]
    assert isinstance(plan, QuantilePlan) and plan.min_n == 0
    order = plan.order_indices(np.random.default_rng(9), 6)
    fast = plan.nonparametric(np.random.default_rng(9), 6)
    for r in range(6):
        # a resample with the drawn order statistics at the needed positions (others between)
        counts = np.zeros(n, dtype=np.int64)
        positions = plan.positions
        for j, p in enumerate(positions):
            stop = positions[j + 1] if j + 1 < positions.size else n
            start = 0 if j == 0 else p
            counts[order[r, j]] += stop - start
        lines = quantile_kernel(CountRows(x, counts[None, :]), **ESTIMATOR.check(**options))
        np.testing.assert_allclose(fast[r], lines.pairs[0], rtol=1e-12)


def test_estimator_entry() -> None:
    assert ESTIMATOR.name == "quantile" and ESTIMATOR.order_statistics and ESTIMATOR.plan is not None
    assert ESTIMATOR.summary == "quantile matching at probabilities 0.1 and 0.9"
    assert ESTIMATOR.check(probabilities=[0.2, 0.8]) == {"probabilities": (0.2, 0.8), "method": "linear"}
    with pytest.raises(ValueError, match="`method` must be one of"):
        ESTIMATOR.check(method="cubic")
