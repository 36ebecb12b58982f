"""The compiled kernels (``weibull_stats.core.kernels``), each against the numpy pass it replaced:
counts and bins bit for bit, window sums and fits to 1e-12; and their cache where the package
folder cannot be written."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import weibull_stats as ws
from weibull_stats.core import kernels
from weibull_stats.core.options import no_omissions
from weibull_stats.estimators.histogram._bins import (
    bin_counts,
    bin_indices,
    is_uniform,
    log10_into,
    paper_edges,
)
from weibull_stats.estimators.probability_plot._lines import trim_window
from weibull_stats.estimators.probability_plot._raw import order_window, ordered_window_sums
from weibull_stats.sample.bad_input import careful_magnitudes
from weibull_stats.sample.batch import RawRows
from weibull_stats.weibull.law import rank_ordinates

ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------------- the numpy oracles
def bincount_oracle(bits: np.ndarray) -> np.ndarray:
    return np.bincount(bits.reshape(-1).astype(np.intp), minlength=1 << 16).astype(np.int64)


def careful_oracle(array: np.ndarray, policy: dict[str, str]) -> tuple[dict[str, int], np.ndarray]:
    """The numpy careful path: a mask per test, a copy per step."""
    finite = np.isfinite(array)
    counts = {"nonfinite": int(array.size - np.count_nonzero(finite)), "nan": int(np.isnan(array).sum()),
              "negative": int(np.count_nonzero(finite & (array < 0))),
              "zeros": int(np.count_nonzero(array == 0))}
    if policy["nonfinite"] == "omit":
        array = array[finite]
    if policy["values"] == "weights":
        array = np.abs(array)
    if policy["zeros"] == "omit":
        array = array[array != 0]
    return counts, array


def histogram_oracle(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """The numpy binning: numpy's float32 log10 of the values rounded to float32, then the
    comparison with the edges (bin_indices), counted per column (below, bins, above)."""
    logs = log10_into(np.empty(values.size), values, "paper")
    idx = bin_indices(logs, edges, is_uniform(edges)) + 1
    return np.bincount(idx, minlength=edges.size + 1).astype(np.int64)


def window_sums_oracle(block: np.ndarray, lo: int, hi: int, a: float) -> tuple[np.ndarray, tuple]:
    """The numpy window sums: float64 logarithms and pairwise sums per chunk of ranks."""
    from weibull_stats.estimators._streaming import CHUNK, chunks

    rows, n = block.shape
    mid = (lo + hi) // 2 - 1
    shift = np.log(block[:, mid], dtype=np.float64)
    negative_denom = -(n + 1 - 2 * a)
    parts = []
    for start, stop in chunks(lo - 1, hi, CHUNK):
        u = np.log(block[:, start:stop], dtype=np.float64) - shift[:, None]
        v = np.empty(stop - start)
        rank_ordinates(np.arange(stop - start, dtype=np.float64), float(start + 1), a, negative_denom, v)
        parts.append([u.sum(axis=1), np.full(rows, v.sum()), (u * u).sum(axis=1),
                      np.full(rows, (v * v).sum()), (u * v).sum(axis=1)])
    return shift, tuple(np.sum([p[i] for p in parts], axis=0) for i in range(5))


# ---------------------------------------------------------------------- counting
@pytest.mark.parametrize("size", [0, 1, 2, 3, 1000, 1 << 17])
def test_count_patterns16_equals_bincount(size: int) -> None:
    rng = np.random.default_rng(size)
    bits = rng.integers(0, 1 << 16, size=size, dtype=np.uint16)
    bits[: size // 2] = 0x3C00  # long runs of one pattern (four counter tables)
    np.testing.assert_array_equal(kernels.count_patterns16(bits), bincount_oracle(bits))
    np.testing.assert_array_equal(kernels.count_patterns16(bits, block=7), bincount_oracle(bits))
    for offset in (1, 2, 3):  # starts off the 8-byte boundary: a head counted one pattern at a time
        np.testing.assert_array_equal(kernels.count_patterns16(bits[offset:]), bincount_oracle(bits[offset:]))


def test_count_patterns16_of_every_pattern_and_a_strided_view() -> None:
    bits = np.arange(1 << 16, dtype=np.uint16).repeat(3).reshape(3, -1)
    np.testing.assert_array_equal(kernels.count_patterns16(bits), np.full(1 << 16, 3))
    view = bits[:, ::5]
    np.testing.assert_array_equal(kernels.count_patterns16(view), bincount_oracle(view))


# ---------------------------------------------------------------------- the census of bad input
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("values", ["weights", "magnitudes"])
def test_census_and_compact_equal_the_numpy_masks(dtype: type, values: str) -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(0.0, 1.0, 5000).astype(dtype)
    x[rng.choice(5000, 300, replace=False)] = rng.choice(
        np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, -1.5], dtype=dtype), 300)
    if values == "magnitudes":
        x = np.where(x < 0, -x, x).astype(dtype)  # no negative finite values (they are an error)
    policy = {"values": values, "nonfinite": "omit", "zeros": "omit"}
    counts, expected = careful_oracle(x, policy)
    expected_counts = (counts["nonfinite"], counts["nan"], counts["negative"], counts["zeros"])
    assert kernels.float_census(x) == expected_counts
    omitted = no_omissions()
    got, owned = careful_magnitudes(x, "x", x.size, omitted, policy)
    assert owned and got.dtype == x.dtype
    np.testing.assert_array_equal(got, expected)
    assert omitted["nonfinite"] == counts["nonfinite"] and omitted["zeros"] == counts["zeros"]


def test_compact_keeps_order_and_copies() -> None:
    x = np.array([3.0, -0.0, -2.0, np.nan, 1.0])
    out = kernels.compact_magnitudes(x, drop_nonfinite=True, take_abs=True, drop_zeros=True, kept=3)
    assert out.tolist() == [3.0, 2.0, 1.0] and not np.shares_memory(out, x)
    with pytest.raises(AssertionError, match="kept 3 values, not 4"):
        kernels.compact_magnitudes(x, drop_nonfinite=True, take_abs=True, drop_zeros=True, kept=4)
    # a count too small stops the pass at the end of its buffer, never past it
    with pytest.raises(AssertionError, match="kept 2 values, not 1"):
        kernels.compact_magnitudes(x, drop_nonfinite=True, take_abs=True, drop_zeros=True, kept=1)


# ---------------------------------------------------------------------- histogram binning
def threshold_neighbours(table: kernels.PatternBins, width: int) -> np.ndarray:
    near = (table.thresholds.astype(np.int64)[:, None] + np.arange(-width, width)).reshape(-1)
    return near[(near >= 0) & (near <= table.INF)].astype(np.uint32).view(np.float32)


@pytest.mark.parametrize("edges", [paper_edges(), np.linspace(-3.0, 0.0, 7),
                                   np.array([-5.0, -2.0, -1.9999, 1.0]),  # two thresholds in one prefix
                                   np.array([-44.9, -40.0, -38.0, 38.5])])  # subnormals binned
def test_pattern_bins_equal_numpy_near_every_threshold(edges: np.ndarray) -> None:
    table = kernels.PatternBins(edges)
    assert table.verify()
    rng = np.random.default_rng(1)
    values = np.concatenate([
        threshold_neighbours(table, 1024),
        rng.integers(0, 0x7F800001, 200_000, dtype=np.uint32).view(np.float32),  # every binade, subnormals
        np.array([0.0, -0.0, np.inf, 1e-45, 3.4e38], dtype=np.float32),
    ])
    counts = np.zeros(edges.size + 1, dtype=np.int64)
    kernels.bin_patterns32(values, table, counts)
    np.testing.assert_array_equal(counts, histogram_oracle(values, edges))
    # float64 values are rounded to float32 first, as numpy's float32 log10 rounds them
    wide = values.astype(np.float64) * (1 + rng.uniform(-1e-8, 1e-8, values.size))
    wide = np.concatenate([wide, [1e300, 4e-46]])
    counts = np.zeros(edges.size + 1, dtype=np.int64)
    kernels.bin_patterns32(wide, table, counts)
    np.testing.assert_array_equal(counts, histogram_oracle(wide, edges))


def test_table_with_several_thresholds_in_a_prefix_takes_the_search() -> None:
    assert not kernels.PatternBins(np.array([-5.0, -2.0, -1.9999, 1.0])).single
    assert kernels.PatternBins(paper_edges()).single


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bin_counts_of_raw_rows_equal_the_numpy_pass_and_npm_weibull(dtype: type) -> None:
    rng = np.random.default_rng(2)
    rows = np.abs(rng.normal(0.0, 0.02, (3, 100_000))).astype(dtype)
    rows[0, :4] = [1e-13, 1e-12, 100.0, 1e3]
    edges = paper_edges()
    got = bin_counts(RawRows(rows), edges, "paper")
    for r in range(3):
        np.testing.assert_array_equal(got[r], histogram_oracle(rows[r], edges))
    npm_weibull = pytest.importorskip("npm_weibull")
    np.testing.assert_array_equal(got[1, 1:-1], npm_weibull.extract_to_histogram(rows[1])["hist"])


# ---------------------------------------------------------------------- the probability plot's sums
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("rows", "n", "threads"), [(1, 50, False), (4, 3000, False), (1, 40_000, True)])
def test_window_sums_equal_the_numpy_pass(dtype: type, rows: int, n: int, threads: bool) -> None:
    rng = np.random.default_rng(n)
    block = rng.weibull(1.3, (rows, n)).astype(dtype) * dtype(0.02)
    block[0, 7] = np.float32(3e-42) if dtype == np.float32 else 3e-300  # a subnormal float32
    block = np.sort(block, axis=1)
    lo, hi = trim_window(n, (0.1, 0.9), "hazen")
    lo = 1 if n == 50 else lo  # the subnormal inside the window
    shift, sums = ordered_window_sums(block, lo, hi, 0.5, threads=threads)
    expected_shift, expected = window_sums_oracle(block, lo, hi, 0.5)
    np.testing.assert_array_equal(shift, expected_shift)
    for got, want in zip(sums, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * np.abs(want).max())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exact_fit_equals_the_numpy_oracle_to_1e_12(dtype: type) -> None:
    from weibull_stats.estimators._streaming import RegressionSums
    from weibull_stats.estimators.probability_plot import line_from_sums

    x = np.abs(np.random.default_rng(9).normal(0.0, 0.02, 200_001)).astype(dtype)
    n = x.size
    lo, hi = trim_window(n, (0.1, 0.9), "hazen")
    block = x[None, :].copy()
    order_window(block, lo, hi)
    shift, (su, sv, suu, svv, suv) = window_sums_oracle(block, lo, hi, 0.5)
    sums = RegressionSums.from_raw(hi - lo + 1, float(shift[0]), su[0], sv[0], suu[0], svv[0], suv[0])
    shape, scale = line_from_sums(sums, "y_on_x")[:2]
    fit = ws.fit(x, "probability_plot")
    np.testing.assert_allclose([fit.shape, fit.scale], [shape, scale], rtol=1e-12)


def test_float32_logarithm_of_every_binade() -> None:
    words = np.random.default_rng(5).integers(1, 0x7F800000, 100_000, dtype=np.uint32)
    block = words.view(np.float32)[None, :]
    out = np.empty((3, 1, block.size))
    kernels.ordered_log_sums(block, 0, np.ones(block.size), np.zeros(1), 1, (0, block.size), out)
    exact = np.log(block[0].astype(np.float64))
    assert np.all(np.abs(out[0, 0] - exact) <= 2 * np.spacing(np.maximum(np.abs(exact), 1.0)))


# ---------------------------------------------------------------------- lazy import and the cache
def test_import_does_not_load_numba() -> None:
    code = "import sys, weibull_stats; print('numba' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.stdout.strip() == "False"


PROBE = """
import json, warnings
import numpy as np
from weibull_stats.core import jit, kernels
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    counts = kernels.count_patterns16(np.array([5, 5, 9], dtype=np.uint16))
print(json.dumps({"five": int(counts[5]), "folder": str(jit.cache_folder()),
                  "warnings": [f"{w.category.__name__}: {w.message}" for w in caught]}))
"""


def read_only_copy(tmp_path: Path) -> Path:
    """A copy of the package that cannot be written: no ``__pycache__`` can be made beside the
    kernels (a file stands in its place, which stops root too) and every file is read-only."""
    site = tmp_path / "site"
    shutil.copytree(ROOT / "weibull_stats", site / "weibull_stats",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (site / "weibull_stats" / "core" / "__pycache__").write_text("not a folder")
    for path in sorted(site.rglob("*"), reverse=True):
        path.chmod(0o555 if path.is_dir() else 0o444)
    return site


def run_probe(site: Path, env: dict[str, str]) -> dict:
    clean = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "XDG_CACHE_HOME")}
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, cwd=site,
                          env={**clean, "PYTHONPATH": str(site), "PYTHONDONTWRITEBYTECODE": "1", **env})
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_read_only_install_caches_in_the_user_cache_folder(tmp_path: Path) -> None:
    site = read_only_copy(tmp_path)
    cache_home = tmp_path / "cache"
    first = run_probe(site, {"XDG_CACHE_HOME": str(cache_home)})
    assert first["five"] == 2 and first["warnings"] == []
    folder = cache_home / "weibull-stats" / "numba"
    assert first["folder"] == str(folder)
    assert any(folder.rglob("*.nbi")) and any(folder.rglob("*.nbc"))  # the index and the machine code
    second = run_probe(site, {"XDG_CACHE_HOME": str(cache_home)})
    assert second["five"] == 2 and second["warnings"] == []


def test_no_writable_cache_is_a_warning_not_an_error(tmp_path: Path) -> None:
    site = read_only_copy(tmp_path)
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    result = run_probe(site, {"XDG_CACHE_HOME": str(blocked / "cache"), "HOME": str(blocked)})
    assert result["five"] == 2 and result["folder"] == "None"
    assert len(result["warnings"]) == 1 and result["warnings"][0].startswith("KernelCacheWarning")
