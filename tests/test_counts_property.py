"""Every registered estimator gives the same numbers on a counts sample and on the raw
values it counts (issue 9 item 3): a property test over the whole registry.

The data are 16-bit (bf16 or fp16) roundings of Weibull samples, so :func:`as_sample` counts
them by bit pattern; ``form="raw"`` keeps the same values as a raw float32 array. The two
routes share no code below the kernel's entry (pattern counting and O(distinct) sums against
sorting or partitioning and per-value sums), so agreement to 1e-12 relative checks both.
"""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import weibull_stats as ws
from weibull_stats.core.kernels import count_patterns16
from weibull_stats.estimators.probability_plot import probability_plot_kernel
from weibull_stats.sample.batch import CountRows
from weibull_stats.weibull.rank_sums import CLOSED_FORM_MIN

FORMATS = {"bfloat16": ml_dtypes.bfloat16, "float16": np.float16}


@st.composite
def stored_samples(draw: st.DrawFn) -> tuple[np.ndarray, str]:
    """A Weibull sample rounded to a 16-bit format, possibly with heavy ties."""
    storage = draw(st.sampled_from(sorted(FORMATS)))
    n = draw(st.integers(min_value=60, max_value=3000))
    shape = draw(st.floats(min_value=0.5, max_value=4.0))
    scale = draw(st.floats(min_value=0.01, max_value=10.0))  # inside fp16's and the paper grid's range
    seed = draw(st.integers(min_value=0, max_value=2**31))
    distinct = draw(st.sampled_from([None, 7, 40]))  # None: as drawn; else only that many values
    rng = np.random.default_rng(seed)
    x = rng.weibull(shape, n) * scale
    if distinct is not None:
        x = rng.choice(np.unique(x)[:: max(1, n // distinct)], size=n)
    stored = x.astype(np.float32).astype(FORMATS[storage])
    magnitudes = stored.astype(np.float32)
    magnitudes = magnitudes[magnitudes > 0]
    return magnitudes.astype(FORMATS[storage]), storage


OPTIONS = {"histogram": {"outside": "omit"}}


@pytest.mark.parametrize("name", list(ws.ESTIMATORS))
@settings(max_examples=25, deadline=None)
@given(data=stored_samples())
def test_counts_equal_raw(name: str, data: tuple[np.ndarray, str]) -> None:
    x, storage = data
    counted = ws.as_sample(x)
    raw = ws.as_sample(x, form="raw")
    assert counted.form == "counts" and raw.form == "raw" and counted.storage == storage
    options = OPTIONS.get(name, {})
    try:
        expected = ws.fit(raw, name, **options)
    except ValueError as exc:  # a degenerate draw: both routes must refuse it alike
        with pytest.raises(ValueError) as refused:
            ws.fit(counted, name, **options)
        assert str(refused.value) and str(exc)
        return
    got = ws.fit(counted, name, **options)
    assert got.n == expected.n and got.n_used == expected.n_used
    assert got.shape == pytest.approx(expected.shape, rel=1e-12)
    assert got.scale == pytest.approx(expected.scale, rel=1e-12)
    if expected.r2 is not None:
        assert got.r2 == pytest.approx(expected.r2, rel=1e-12)


@pytest.mark.parametrize("plotting_position", ["hazen", "weibull", "bernard", "blom"])
@pytest.mark.parametrize("trim", [(0.1, 0.9), (0.0, 1.0), (0.02, 0.98)])
def test_probability_plot_closed_form_equals_raw(plotting_position: str, trim: tuple[float, float]) -> None:
    # windows of at least CLOSED_FORM_MIN ranks sum the plot ordinates by Euler-Maclaurin
    # (weibull/rank_sums.py): the same fit as summing rank by rank
    w = np.random.default_rng(5).normal(0.0, 0.02, 300_000).astype(ml_dtypes.bfloat16)
    counted = ws.as_sample(w, values="weights", zeros="omit")
    raw = ws.as_sample(w, values="weights", zeros="omit", form="raw")
    assert counted.size * (trim[1] - trim[0]) > CLOSED_FORM_MIN
    for direction in ("y_on_x", "x_on_y"):
        options = {"trim": trim, "plotting_position": plotting_position, "direction": direction,
                   "values": "weights", "zeros": "omit"}
        got, expected = ws.fit(counted, **options), ws.fit(raw, **options)
        assert (got.n_used, got.details["rank_low"]) == (expected.n_used, expected.details["rank_low"])
        assert got.shape == pytest.approx(expected.shape, rel=1e-12)
        assert got.scale == pytest.approx(expected.scale, rel=1e-12)
        assert got.r2 == pytest.approx(expected.r2, rel=1e-12)


def test_probability_plot_closed_form_row_of_a_batch_is_the_one_sample_fit() -> None:
    w = np.random.default_rng(6).normal(0.0, 0.02, 100_000).astype(ml_dtypes.bfloat16)
    sample = ws.as_sample(w, values="weights", zeros="omit")
    rows = np.random.default_rng(7).multinomial(sample.size, sample.counts / sample.size, size=5)
    rows[0] = sample.counts
    options = {"trim": (0.1, 0.9), "plotting_position": "hazen", "direction": "y_on_x"}
    batch = probability_plot_kernel(CountRows(sample.distinct, rows), **options)
    one = probability_plot_kernel(CountRows(sample.distinct, rows[:1]), **options)
    assert batch.shape[0] == one.shape[0] and batch.scale[0] == one.scale[0]


BLOCK = 1 << 12


@pytest.mark.parametrize("size", [1, BLOCK - 1, BLOCK, 2 * BLOCK + 123])
def test_pattern_counts_across_chunk_edges(size: int) -> None:
    # the counts of the compiled count, its 32-bit counters flushed every BLOCK reads of four
    # patterns, against numpy.unique's
    bits = np.random.default_rng(size).integers(0, 1 << 16, size=size, dtype=np.uint16)
    patterns, counts = np.unique(bits, return_counts=True)
    expected = np.zeros(1 << 16, dtype=np.int64)
    expected[patterns] = counts
    np.testing.assert_array_equal(count_patterns16(bits, block=BLOCK), expected)
    np.testing.assert_array_equal(count_patterns16(bits), expected)
