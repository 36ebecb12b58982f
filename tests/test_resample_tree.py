"""The raw-data bootstrap's multinomial tree (``weibull_stats.core.resample_tree``): its counts have
exactly the law of ``n`` draws with replacement, each resample's window sums are those of the
materialised resample, and the bootstrap it drives is reproducible, independent of the number of
workers and equal in distribution to index resampling."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats

import weibull_stats as ws
from weibull_stats.core.resample_tree import (
    LEAF_BITS,
    block_counts,
    dyadic_blocks,
    prefix_sums,
    tree_window_sums,
)
from weibull_stats.estimators.probability_plot import ProbabilityPlotPlan


def tree_counts(n: int, resamples: int, seed: int) -> np.ndarray:
    """``(resamples, n)`` count vectors drawn by the tree (every node drawn)."""
    blocks = dyadic_blocks(n)
    generator = np.random.default_rng(seed)
    prefix = prefix_sums(np.zeros(n))
    out = np.zeros((resamples, n), dtype=np.int64)
    for r in range(resamples):
        counts = block_counts(generator, n, blocks[1])
        seed = generator.integers(0, 2**63, size=1).astype(np.uint64)
        tree_window_sums(seed, blocks, counts, np.zeros(n), prefix, (1, n), out[r : r + 1])
    return out


def compositions(n: int, cells: int) -> list[tuple[int, ...]]:
    return [c for c in itertools.product(range(n + 1), repeat=cells) if sum(c) == n]


@pytest.mark.parametrize("n", [4, 5, 6, 7])
def test_small_count_vectors_have_the_multinomial_law(n: int) -> None:
    # every count vector's frequency against its Multinomial(n, 1/n) probability: a chi-square
    # test at level 1e-3 (fixed seed), dyadic blocks of one to three sizes
    resamples = 40_000
    drawn = tree_counts(n, resamples, seed=n)
    assert np.all(drawn.sum(axis=1) == n)
    vectors = compositions(n, n)
    index = {v: i for i, v in enumerate(vectors)}
    observed = np.bincount([index[tuple(row)] for row in drawn.tolist()], minlength=len(vectors))
    probability = np.array([math.factorial(n) / math.prod(math.factorial(c) for c in v) / n**n
                            for v in vectors])
    statistic = float(((observed - resamples * probability) ** 2 / (resamples * probability)).sum())
    assert statistic < stats.chi2.ppf(1 - 1e-3, len(vectors) - 1)


@pytest.mark.parametrize("n", [1000, 1 << 11])
def test_counts_of_a_large_tree_have_the_multinomial_moments(n: int) -> None:
    # the popcount splits above the leaves (n > 2^LEAF_BITS): cell means and variances, the law
    # of the count of a single cell, and the totals of ranges cut at and across node boundaries
    assert n > 1 << LEAF_BITS
    resamples = 3000
    drawn = tree_counts(n, resamples, seed=1)
    assert np.all(drawn.sum(axis=1) == n)
    p = 1.0 / n
    # each cell's sample variance has standard error about sqrt((mu4 - sigma^4) / resamples) =
    # sqrt(3 / resamples) (Poisson(1) moments); n cells, nearly independent, are averaged
    cell_var = drawn.var(axis=0, ddof=1).mean()
    assert abs(cell_var - (1 - p)) < 4.5 * math.sqrt(3.0 / (resamples * n))
    values = np.minimum(drawn.reshape(-1), 6)
    expected = stats.binom.pmf(np.arange(6), n, p)
    expected = np.append(expected, 1 - expected.sum()) * values.size
    observed = np.bincount(values, minlength=7)
    # cells of one resample are nearly independent (correlation -1/(n-1)): a chi-square at 1e-4
    assert float(((observed - expected) ** 2 / expected).sum()) < stats.chi2.ppf(1 - 1e-4, 6)
    for first, last in [(0, 256), (256, 512), (100, 700), (0, n // 2), (n - 300, n)]:
        total = drawn[:, first:last].sum(axis=1)
        q = (last - first) / n
        assert abs(total.mean() - n * q) < 4.5 * math.sqrt(n * q * (1 - q) / resamples)
        assert abs(total.var(ddof=1) / (n * q * (1 - q)) - 1) < 4.5 * math.sqrt(2.0 / resamples)


def test_block_counts_are_a_multinomial_over_the_dyadic_blocks() -> None:
    n = 1000  # blocks of 512, 256, 128, 64, 32, 8
    starts, bits = dyadic_blocks(n)
    assert starts.tolist() == [0, 512, 768, 896, 960, 992] and bits.tolist() == [9, 8, 7, 6, 5, 3]
    generator = np.random.default_rng(3)
    drawn = np.array([block_counts(generator, n, bits) for _ in range(4000)])
    assert np.all(drawn.sum(axis=1) == n)
    q = np.left_shift(1, bits) / n
    assert np.all(np.abs(drawn.mean(axis=0) - n * q) < 4.5 * np.sqrt(n * q * (1 - q) / 4000))


def test_pruned_walk_reads_the_same_counts_as_the_full_walk() -> None:
    # the node streams do not depend on the nodes skipped: the window sums of the pruned walk
    # are those of the counts of the full walk
    n, lo, hi = 70_001, 7001, 63_000
    rng = np.random.default_rng(2)
    log_x = np.log(np.sort(rng.weibull(1.2, n)))
    v = rng.standard_normal(hi - lo + 1)
    prefix = prefix_sums(v)
    blocks = dyadic_blocks(n)
    counts = block_counts(rng, n, blocks[1])
    seed = np.array([99], dtype=np.uint64)
    record = np.zeros((1, n), dtype=np.int64)
    full = tree_window_sums(seed, blocks, counts, log_x, prefix, (lo, hi), record)[0]
    pruned = tree_window_sums(seed, blocks, counts, log_x, prefix, (lo, hi))[0]
    u = np.repeat(log_x, record[0])[lo - 1 : hi]
    expected = (u.sum(), (u * u).sum(), (u * v).sum())
    assert np.array_equal(full, pruned)
    assert full == pytest.approx(expected, rel=1e-12)


def test_a_resample_sums_the_same_in_any_group() -> None:
    # resamples drawn together (one pass over the data) give bit for bit their sums drawn alone
    n, lo, hi = 50_003, 5001, 45_003
    rng = np.random.default_rng(6)
    log_x = np.log(np.sort(rng.weibull(0.8, n)))
    prefix = prefix_sums(rng.standard_normal(hi - lo + 1))
    blocks = dyadic_blocks(n)
    counts = np.array([block_counts(rng, n, blocks[1]) for _ in range(5)])
    seeds = rng.integers(0, 2**63, size=5).astype(np.uint64)
    together = tree_window_sums(seeds, blocks, counts, log_x, prefix, (lo, hi))
    alone = [tree_window_sums(seeds[g : g + 1], blocks, counts[g], log_x, prefix, (lo, hi))[0]
             for g in range(5)]
    assert np.array_equal(together, np.array(alone))


def test_prefix_sums_stay_exact_over_long_prefixes() -> None:
    v = np.random.default_rng(4).standard_normal(1_000_000) + 5.0
    hi, lo = prefix_sums(v)
    for a, b in [(0, 3), (999_990, 1_000_000), (400_000, 400_001), (17, 654_321)]:
        exact = math.fsum(v[a:b].tolist())
        assert (hi[b] - hi[a]) + (float(lo[b]) - float(lo[a])) == pytest.approx(exact, rel=1e-15, abs=1e-12)


def test_bootstrap_is_reproducible_and_independent_of_workers() -> None:
    x = np.random.default_rng(5).weibull(1.4, 20_000) * 3.0
    one = ws.bootstrap(x, n_resamples=70, rng=11, workers=1)
    two = ws.bootstrap(x, n_resamples=70, rng=11, workers=2)
    again = ws.bootstrap(x, n_resamples=70, rng=11, workers=3)
    other = ws.bootstrap(x, n_resamples=70, rng=12, workers=2)
    assert one.route == "order-statistic plan"
    assert np.array_equal(one.bootstrap_distribution, two.bootstrap_distribution)
    assert np.array_equal(one.bootstrap_distribution, again.bootstrap_distribution)
    assert not np.any(one.bootstrap_distribution == other.bootstrap_distribution)
    assert np.unique(one.bootstrap_distribution[:, 0]).size == 70


def test_tree_bootstrap_matches_index_resampling_at_n_1e5() -> None:
    # independent draws of the same law at n = 10^5: means within 4 standard errors of their
    # difference, standard deviations within 4 normal-theory errors, the 2.5% and 97.5% quantiles
    # (the percentile interval) within 4 of their asymptotic errors
    n, size = 100_000, 400
    x = np.random.default_rng(8).weibull(1.3, n) * 2.0
    fast = ProbabilityPlotPlan(np.sort(x)).nonparametric(np.random.default_rng(9), size)
    rng = np.random.default_rng(10)
    slow = np.array([[f.shape, f.scale] for f in
                     (ws.fit_probability_plot(x[rng.integers(0, n, n)]) for _ in range(size))])
    for column in range(2):
        a, b = fast[:, column], slow[:, column]
        sd = b.std()
        assert abs(a.mean() - b.mean()) < 4 * math.sqrt(a.var() / size + b.var() / size)
        assert abs(a.std() - sd) < 4 * sd * math.sqrt(1.0 / size)
        for q in (0.025, 0.975):
            # quantile error of a normal sample: sqrt(q (1 - q) / size) / phi(z_q) standard deviations
            error = math.sqrt(q * (1 - q) / size) / stats.norm.pdf(stats.norm.ppf(q)) * sd
            assert abs(np.quantile(a, q) - np.quantile(b, q)) < 4 * math.sqrt(2) * error
