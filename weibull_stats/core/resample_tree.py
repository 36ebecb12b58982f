"""Compiled kernel of the raw-data bootstrap: multinomial resample counts over a sorted sample
drawn by a binary splitting tree, and the probability plot's window sums read off them.

A nonparametric resample of ``n`` values is the count vector ``c ~ Multinomial(n, 1/n)`` over
the sorted sample ``x_(1) <= ... <= x_(n)``; its order statistics are ``x_(i)`` repeated ``c_i``
times, so only the counts are drawn, never the resample. The ``n`` cells are cut into dyadic
blocks (the binary digits of ``n``: sizes ``2^k``), whose counts are ``Multinomial(n, 2^k / n)``
(drawn by the caller with numpy's exact binomials). Inside a block the count ``m`` of a node of
``2^k`` cells is split between its two equal halves as ``Binomial(m, 1/2)`` (the exact
conditional multinomial), which is the number of ones among ``m`` random bits: a popcount of
``m / 64`` random words. A node of at most ``2^LEAF_BITS`` cells (a leaf) places its ``m`` draws
directly, each a uniform ``k``-bit index (``64 // k`` per random word), into a small table of
counts. Every split and leaf is exact: the counts have exactly the multinomial law.

The random words of a node come from its own stream, a splitmix64 sequence (Steele, Lea and
Flood 2014) started at a hash of the resample's 64-bit seed and the node's place (first cell
and size): a node's counts do not depend on the order in which nodes are visited, on which
nodes are skipped, or on any thread count. The probability plot only reads the ranks
``lo..hi`` of the trim window, so the tree is walked depth first, left to right, with the
number of ranks before the node: a node whose ranks all lie outside the window is skipped
(its count is known) and the walk stops past ``hi``. A group of resamples is drawn at once: the
trees are walked down to their leaves' counts first, then the leaves are visited in cell order,
each for every resample of the group, so that the sorted data and the prefix sums below are
read from memory once per group (the bootstrap is bound by memory traffic on two cores); each
resample's sums are added in the same order as alone. At a leaf, cell ``i`` with count ``c``
and ranks ``r + 1..r + c`` adds, for the ranks ``a..b`` of those in the window, ``(b - a + 1) u_i``,
``(b - a + 1) u_i^2`` and ``u_i (v_a + ... + v_b)`` to the sums of ``u``, ``u^2`` and ``u v``
(``u_i = ln x_(i) - shift``, ``v`` the window's plot ordinates), branch-free, O(1) per cell: the
sum of ``v`` is a difference of compensated prefix sums (:func:`prefix_sums`, computed once).
"""

from __future__ import annotations

import numpy as np

from weibull_stats.core.jit import call

#: Cells of the largest leaf: ``2^LEAF_BITS`` (its table of counts stays in the L1 cache).
LEAF_BITS = 8
#: splitmix64's increment (the golden ratio in 64 bits) and its two multipliers.
GOLDEN = np.uint64(0x9E3779B97F4A7C15)
MIX1 = np.uint64(0xBF58476D1CE4E5B9)
MIX2 = np.uint64(0x94D049BB133111EB)
#: Masks of the branch-free popcount.
M1 = np.uint64(0x5555555555555555)
M2 = np.uint64(0x3333333333333333)
M4 = np.uint64(0x0F0F0F0F0F0F0F0F)
H01 = np.uint64(0x0101010101010101)


def _trees(seeds: np.ndarray, starts: np.ndarray, bits: np.ndarray, counts: np.ndarray, log_x: np.ndarray,
           prefix_hi: np.ndarray, prefix_lo: np.ndarray, lo: np.int64, hi: np.int64, record: np.ndarray,
           out: np.ndarray) -> None:  # pragma: no cover - compiled
    # a group of resamples, row g of `counts` (the dyadic blocks' counts) and `seeds`. First each
    # resample's tree is walked down to its leaves (every leaf's count; a skipped node's count on
    # its first leaf), then the leaves are visited in cell order, each for every resample in
    # turn, so that the group reads the sorted data and the prefix sums from memory once. `record`
    # ((group, n), or (0, 0)) receives every cell's count (no node skipped); `out` (group, 3) the
    # window sums of u, u^2 and u v
    group = seeds.size
    full = record.shape[0] > 0
    n = np.int64(0)
    for b in range(starts.size):
        n += np.int64(1) << bits[b]
    big = n >> LEAF_BITS  # leaves of 2^LEAF_BITS cells; the smaller blocks follow, one leaf each
    small = np.int64(0)
    for b in range(starts.size):
        small += 1 if bits[b] < LEAF_BITS else 0
    leaves = big + small
    leaf_m = np.zeros((group, leaves), dtype=np.int64)
    depth = 2 * (64 + starts.size)
    stack_start = np.empty(depth, dtype=np.int64)
    stack_bits = np.empty(depth, dtype=np.int64)
    stack_m = np.empty(depth, dtype=np.int64)
    for g in range(group):
        top = 0
        for b in range(starts.size - 1, -1, -1):
            stack_start[top] = starts[b]
            stack_bits[top] = bits[b]
            stack_m[top] = counts[g, b]
            top += 1
        rank = np.int64(0)  # ranks before the node on top of the stack
        seed = seeds[g]
        while top > 0:
            top -= 1
            start = stack_start[top]
            k = stack_bits[top]
            m = stack_m[top]
            if m == 0:
                continue
            if k <= LEAF_BITS or (not full and (rank + m < lo or rank >= hi)):
                # a leaf, or a node outside the window: its count goes to its first leaf
                if k >= LEAF_BITS:
                    leaf = start >> LEAF_BITS
                else:  # a small block: after the larger ones, in the order of the cells
                    leaf = big
                    for b in range(starts.size):
                        leaf += 1 if bits[b] < LEAF_BITS and bits[b] > k else 0
                leaf_m[g, leaf] = m
                rank += m
                if not full and rank >= hi:
                    break
                continue
            # the node's stream: splitmix64 from a hash of the seed and the node's place
            z = np.uint64(start) * np.uint64(64) + np.uint64(k)
            z = (z ^ (z >> np.uint64(30))) * MIX1
            z = (z ^ (z >> np.uint64(27))) * MIX2
            z = seed ^ z ^ (z >> np.uint64(31))
            z = (z ^ (z >> np.uint64(30))) * MIX1
            z = (z ^ (z >> np.uint64(27))) * MIX2
            state = z ^ (z >> np.uint64(31))
            # Binomial(m, 1/2) to the left half: the ones among m random bits (popcounts of whole
            # words, then of the low bits of one more)
            ones = np.uint64(0)
            words = m >> 6
            rest = m & 63
            for j in range(words + (1 if rest else 0)):
                state += GOLDEN
                z = state
                z = (z ^ (z >> np.uint64(30))) * MIX1
                z = (z ^ (z >> np.uint64(27))) * MIX2
                z = z ^ (z >> np.uint64(31))
                if j == words:
                    z &= (np.uint64(1) << np.uint64(rest)) - np.uint64(1)
                z = z - ((z >> np.uint64(1)) & M1)
                z = (z & M2) + ((z >> np.uint64(2)) & M2)
                z = (z + (z >> np.uint64(4))) & M4
                ones += (z * H01) >> np.uint64(56)
            left = np.int64(ones)
            half = np.int64(1) << (k - 1)
            stack_start[top] = start + half
            stack_bits[top] = k - 1
            stack_m[top] = m - left
            stack_start[top + 1] = start
            stack_bits[top + 1] = k - 1
            stack_m[top + 1] = left
            top += 2
    table = np.zeros(1 << LEAF_BITS, dtype=np.int64)
    width = hi - lo + 1
    ranks = np.zeros(group, dtype=np.int64)
    for g in range(group):
        out[g, 0] = out[g, 1] = out[g, 2] = 0.0
    for leaf in range(leaves):
        if leaf < big:
            start = leaf << LEAF_BITS
            k = np.int64(LEAF_BITS)
        else:  # the small blocks, largest first
            seen = big
            for b in range(starts.size):
                if bits[b] < LEAF_BITS:
                    if seen == leaf:
                        start = starts[b]
                        k = bits[b]
                    seen += 1
        done = True
        for g in range(group):
            m = leaf_m[g, leaf]
            rank = ranks[g]
            done = done and not full and rank >= hi
            if m == 0:
                continue
            ranks[g] = rank + m
            if not full and (rank + m < lo or rank >= hi):
                continue
            z = np.uint64(start) * np.uint64(64) + np.uint64(k)
            z = (z ^ (z >> np.uint64(30))) * MIX1
            z = (z ^ (z >> np.uint64(27))) * MIX2
            z = seeds[g] ^ z ^ (z >> np.uint64(31))
            z = (z ^ (z >> np.uint64(30))) * MIX1
            z = (z ^ (z >> np.uint64(27))) * MIX2
            state = z ^ (z >> np.uint64(31))
            size = np.int64(1) << k
            table[:size] = 0
            if k == 0:
                table[0] = m
            else:
                # m uniform k-bit cell indices, 64 // k from each random word
                per = 64 // k
                mask = (np.uint64(1) << np.uint64(k)) - np.uint64(1)
                placed = np.int64(0)
                while placed < m:
                    state += GOLDEN
                    word = state
                    word = (word ^ (word >> np.uint64(30))) * MIX1
                    word = (word ^ (word >> np.uint64(27))) * MIX2
                    word = word ^ (word >> np.uint64(31))
                    for _ in range(min(per, m - placed)):
                        table[np.int64(word & mask)] += 1
                        word >>= np.uint64(k)
                    placed += per
            # each cell's share of the window, branch-free: cell i holds the window positions
            # prev..e-1 (e clamped to the window), and its sum of v is a difference of prefix sums
            su = out[g, 0]
            suu = out[g, 1]
            suv = out[g, 2]
            ends = rank - lo + 1
            prev = min(max(ends, np.int64(0)), width)
            p_hi = prefix_hi[prev]
            p_lo = np.float64(prefix_lo[prev])
            for i in range(size):
                ends += table[i]
                e = min(max(ends, np.int64(0)), width)
                e_hi = prefix_hi[e]
                e_lo = np.float64(prefix_lo[e])
                u = log_x[start + i]
                w = np.float64(e - prev) * u
                su += w
                suu += w * u
                suv += u * ((e_hi - p_hi) + (e_lo - p_lo))
                prev = e
                p_hi = e_hi
                p_lo = e_lo
            out[g, 0] = su
            out[g, 1] = suu
            out[g, 2] = suv
            if full:
                for i in range(size):
                    record[g, start + i] = table[i]
        if done:
            break


def _prefix(v: np.ndarray, prefix_hi: np.ndarray, prefix_lo: np.ndarray) -> None:  # pragma: no cover
    # compensated prefix sums (Knuth's TwoSum): the sum of v[:j] is prefix_hi[j] + prefix_lo[j]
    # to within ~2^-100 of its size; the compensation fits float32 (it is below ulp(prefix_hi))
    s = 0.0
    c = 0.0
    prefix_hi[0] = 0.0
    prefix_lo[0] = 0.0
    for j in range(v.size):
        y = v[j]
        t = s + y
        b = t - s
        c += (s - (t - b)) + (y - b)
        s = t + c
        c -= s - t
        prefix_hi[j + 1] = s
        prefix_lo[j + 1] = c


def prefix_sums(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Compensated prefix sums of ``v``: ``hi[j] + lo[j]`` is ``v[0] + ... + v[j - 1]`` to far
    below float64's rounding (``hi`` float64, ``lo`` float32), so a difference of two of them is
    a window's sum of ``v`` to float64's accuracy, however long the prefix.

    Examples
    --------
    >>> hi, lo = prefix_sums(np.array([1e16, 1.0, 1.0]))
    >>> float(hi[3] - hi[1]) + float(lo[3] - lo[1])
    2.0
    """
    v = np.ascontiguousarray(v, dtype=np.float64)
    prefix_hi = np.empty(v.size + 1)
    prefix_lo = np.empty(v.size + 1, dtype=np.float32)
    call(_prefix, v, prefix_hi, prefix_lo)
    return prefix_hi, prefix_lo


def dyadic_blocks(n: int) -> tuple[np.ndarray, np.ndarray]:
    """First cells and ``log2`` sizes of the dyadic blocks of ``n`` cells (largest first).

    Examples
    --------
    >>> [a.tolist() for a in dyadic_blocks(13)]
    [[0, 8, 12], [3, 2, 0]]
    """
    bits = np.array([k for k in range(int(n).bit_length() - 1, -1, -1) if (n >> k) & 1], dtype=np.int64)
    sizes = np.left_shift(np.int64(1), bits)
    return np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64), bits


def block_counts(generator: np.random.Generator, n: int, bits: np.ndarray) -> np.ndarray:
    """``Multinomial(n, 2^bits / n)`` counts of the dyadic blocks, by conditional binomials."""
    counts = np.zeros(bits.size, dtype=np.int64)
    left, cells = n, n
    for b in range(bits.size - 1):
        size = 1 << int(bits[b])
        counts[b] = generator.binomial(left, size / cells) if left else 0
        left -= int(counts[b])
        cells -= size
    counts[-1] = left
    return counts


def tree_window_sums(seeds: np.ndarray, blocks: tuple[np.ndarray, np.ndarray], counts: np.ndarray,
                     log_x: np.ndarray, prefix: tuple[np.ndarray, np.ndarray], window: tuple[int, int],
                     record: np.ndarray | None = None) -> np.ndarray:
    """``(group, 3)`` sums of ``u``, ``u^2`` and ``u v`` over the window ranks ``lo..hi`` (1-based)
    of a group of resamples, resample ``g`` drawn by the tree from the 64-bit ``seeds[g]`` and
    the dyadic ``blocks``' counts ``counts[g]``; ``log_x`` the sorted sample's ``u``, ``prefix``
    the :func:`prefix_sums` of the window's plot ordinates ``v``. With ``record`` (int64,
    ``(group, n)`` zeros) every cell's count is written there as well (every node is then drawn,
    none skipped: the same counts). A resample's sums do not depend on the group it is drawn in.

    Examples
    --------
    >>> blocks = dyadic_blocks(3)
    >>> record = np.zeros((1, 3), dtype=np.int64)
    >>> sums = tree_window_sums(np.array([7], dtype=np.uint64), blocks, np.array([[2, 1]]), np.ones(3),
    ...                         prefix_sums(np.ones(3)), (1, 3), record)
    >>> int(record.sum()), sums.tolist()
    (3, [[3.0, 3.0, 3.0]])
    """
    starts, bits = blocks
    seeds = np.ascontiguousarray(seeds, dtype=np.uint64).reshape(-1)
    out = np.zeros((seeds.size, 3))
    lo, hi = window
    cells = np.zeros((0, 0), dtype=np.int64) if record is None else record
    call(_trees, seeds, starts, bits, np.ascontiguousarray(counts, dtype=np.int64).reshape(seeds.size, -1),
         log_x, prefix[0], prefix[1], np.int64(lo), np.int64(hi), cells, out)
    return out


def warm_up() -> None:
    """Compile the kernels (or load them from the cache) on a tiny input."""
    tree_window_sums(np.ones(1, dtype=np.uint64), dyadic_blocks(3), np.array([[2, 1]]), np.zeros(3),
                     prefix_sums(np.ones(3)), (1, 3))


__all__ = ["LEAF_BITS", "block_counts", "dyadic_blocks", "prefix_sums", "tree_window_sums", "warm_up"]
