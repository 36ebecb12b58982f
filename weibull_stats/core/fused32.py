"""The passes of :mod:`weibull_stats.core.fused` over normal float32 values, vectorised.

No call to ``math`` in the loops, and the tables are module constants compiled into the
kernels, so LLVM vectorises them; the reductions are compiled with
:data:`weibull_stats.core.jit.REASSOCIATE` (each sum in several lanes). A loop that stores
(:func:`edf_values32`) writes one array and reduces nothing, so its result never depends on
whether LLVM's runtime overlap check picks the vectorised loop. For a float32
``x = 2^(e - 127) m_c (1 + t)``, ``m_c`` the centre of the mantissa's 1/1024 cell and
``|t| < 2^-11``:

* ``ln x = (e - 127) ln 2 + ln m_c + ln(1 + t)``: a table and the series of ``ln(1 + t)`` to
  ``t^5`` (:func:`weibull_stats.core.kernels.ordered_log_sums`' logarithm);
* in :func:`moments32`, ``(x / scale)^shape = pe[e] pm[c] exp(shape ln(1 + t))``: two tables
  made per shape (:func:`~weibull_stats.core.fused.power_tables`) and the series of ``exp`` to
  degree 8 (``|shape ln(1 + t)| <= 64 * 2^-11``);
* ``exp(z)``, ``-740 <= z <= 709``: ``z = (64 m + j) ln 2 / 64 + r``, ``|r| <= ln 2 / 128``,
  ``2^m`` and ``2^(j/64)`` from tables and ``exp(r)`` by its series to ``r^6``;
* ``F = 1 - exp(-h)`` and ``ln F``: below ``h = 0.35``, ``F`` by the series of ``-expm1(-h)``
  and ``ln F = ln h + ln(F / h)``, the last by its Bernoulli series to ``h^14`` (both
  relative to the last bits, as ``-expm1`` is); from there ``F = 1 - exp(-h) >= 0.29`` (exact
  to its last bit) and ``ln F`` from a table of 256 cells of ``[0, 1]`` and the series of
  ``ln(1 + t)`` to ``t^9``.

Each is within a few ulp of the libm function; ``tests/test_fused.py`` checks the sums
against the numpy formulas summed exactly.
"""

from __future__ import annotations

import math

import numpy as np

from weibull_stats.core.jit import vectorised
from weibull_stats.core.kernels import LN2, LOG_HEAD, LOG_INVERSE

#: ``ln 2 / 64`` in two parts, the first with trailing zeros (``nf * LN2_HIGH`` exact).
LN2_HIGH = 6.93147180369123816490e-01 / 64.0
LN2_LOW = 1.90821492927058770002e-10 / 64.0
#: ``2^(j/64)``, and ``2^m`` for ``m = -1100 .. 1023`` (index ``m + 1100``; 0 below the subnormals).
EXP_STEPS = np.array([math.pow(2.0, j / 64.0) for j in range(64)])
EXP_POWERS = np.ldexp(1.0, np.arange(-1100, 1024))
#: ``ln c_j`` and ``1 / c_j`` for the cells ``c_j = (j + 1/2) / 256`` of ``[0, 1]``, ``j = 0 .. 256``.
_F_CELLS = (np.arange(257) + 0.5) / 256.0
CELL_LOG = np.log(_F_CELLS)
CELL_INVERSE = 1.0 / _F_CELLS
#: ``1 / k!``: the series of ``-expm1(-h)`` (to ``h^14``: ``0.35^15 / 15! < 1e-18``).
E = tuple(1.0 / math.factorial(k) for k in range(15))
#: Below this ``h`` the lower-tail series give ``F`` and ``ln F``.
LOW_HAZARD = 0.35
#: The Bernoulli series ``ln((1 - exp(-h)) / h) = -h/2 + sum B_2m h^2m / (2m (2m)!)``.
G2, G4, G6, G8 = 1.0 / 24.0, -1.0 / 2880.0, 1.0 / 181440.0, -1.0 / 9676800.0
G10, G12, G14 = 1.0 / 479001600.0, -691.0 / (12.0 * 479001600.0 * 2730.0), 7.0 / (14.0 * 87178291200.0 * 6.0)
#: Values per block (a call of a kernel; the buffers of :func:`edf_values32` stay in L2), and
#: the ranks within a block as floats (no integer-to-float conversion in the loop).
BLOCK = 1 << 14
RAMP = np.arange(BLOCK, dtype=np.float64)


@vectorised
def edf_values32(words: np.ndarray, k: float, log_scale: float, start: int, stop: int,
                 values: np.ndarray) -> None:  # pragma: no cover - compiled
    # elementwise over [start, stop) of a sorted float32 sample: u = ln x - ln scale, h = exp(k u),
    # F and ln F into the rows of `values`: one array, so that LLVM's one runtime overlap check
    # (with `words`) passes and the vectorised loop always runs (the tables are the module's
    # constants, compiled in); no reduction, so its lanes do not change a bit of the result.
    for ii in range(stop - start):
        w = np.int32(words[start + ii])
        e = w >> np.int32(23)
        mantissa = w & np.int32(0x7FFFFF)
        c = mantissa >> np.int32(13)
        t = np.float64(mantissa - (c << np.int32(13)) - np.int32(4096)) * LOG_INVERSE[c]
        s = t * (1.0 - t * (0.5 - t * (1.0 / 3.0 - t * (0.25 - t * 0.2))))
        u = (np.float64(e - np.int32(127)) * LN2 - log_scale) + (LOG_HEAD[c] + s)
        a = k * u  # ln h
        za = min(max(a, -740.0), 709.0)
        na = np.floor(za * (64.0 / LN2) + 0.5)
        ra = (za - na * LN2_HIGH) - na * LN2_LOW
        ia = np.int32(na)
        h = EXP_POWERS[(ia >> np.int32(6)) + np.int32(1100)] * (EXP_STEPS[ia & np.int32(63)] * (
            1.0 + ra * (1.0 + ra * (0.5 + ra * (1.0 / 6.0 + ra * (1.0 / 24.0 + ra * (1.0 / 120.0 + ra * (
                1.0 / 720.0))))))))
        # lower tail: F = -expm1(-h) and ln F = ln h + ln(F / h) by their series
        hh = h * h
        f_low = h * (1.0 - h * (E[2] - h * (E[3] - h * (E[4] - h * (E[5] - h * (E[6] - h * (E[7] - h * (
            E[8] - h * (E[9] - h * (E[10] - h * (E[11] - h * (E[12] - h * (E[13] - h * E[14])))))))))))))
        log_low = a + (-0.5 * h + hh * (G2 + hh * (G4 + hh * (G6 + hh * (G8 + hh * (G10 + hh * (
            G12 + hh * G14)))))))
        # upper part: F = 1 - exp(-h), ln F by a table of [0, 1] and ln(1 + q)
        z = max(-h, -740.0)
        nf = np.floor(z * (64.0 / LN2) + 0.5)
        r = (z - nf * LN2_HIGH) - nf * LN2_LOW
        ni = np.int32(nf)
        f_high = 1.0 - EXP_POWERS[(ni >> np.int32(6)) + np.int32(1100)] * (EXP_STEPS[ni & np.int32(63)] * (
            1.0 + r * (1.0 + r * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (
                1.0 / 720.0))))))))
        jf = min(max(np.int32(f_high * 256.0), np.int32(0)), np.int32(256))
        q = f_high * CELL_INVERSE[jf] - 1.0
        log_high = CELL_LOG[jf] + q * (1.0 - q * (0.5 - q * (1.0 / 3.0 - q * (0.25 - q * (0.2 - q * (
            1.0 / 6.0 - q * (1.0 / 7.0 - q * (0.125 - q * (1.0 / 9.0)))))))))
        low = h < LOW_HAZARD
        values[0, ii] = u
        values[1, ii] = h
        values[2, ii] = f_low if low else f_high
        values[3, ii] = log_low if low else log_high


@vectorised
def edf_sums32(n: int, start: int, stop: int, values: np.ndarray, y: np.ndarray,
               out: np.ndarray) -> None:  # pragma: no cover - compiled
    # the sums over [start, stop) of :func:`edf_values32`'s buffers and the plot ordinates y
    # (zeros when they are not wanted): loads only, so one (vectorised) loop always runs
    inv_n = 1.0 / n
    two_n1 = 2.0 * n + 1.0
    base = start + 1.0
    ad = cvm = su = suu = su3 = su4 = sy = syy = suy = suuy = 0.0
    for ii in range(stop - start):
        j = base + RAMP[ii]
        ad += (2.0 * j - 1.0) * values[3, ii] - (two_n1 - 2.0 * j) * values[1, ii]
        d = values[2, ii] - (j - 0.5) * inv_n
        cvm += d * d
        u = values[0, ii]
        uu = u * u
        yy = y[ii]
        su += u
        suu += uu
        su3 += uu * u
        su4 += uu * uu
        sy += yy
        syy += yy * yy
        suy += u * yy
        suuy += uu * yy
    out[0] = ad
    out[1] = cvm
    out[3] = su
    out[4] = suu
    out[5] = su3
    out[6] = su4
    out[7] = sy
    out[8] = syy
    out[9] = suy
    out[10] = suuy


def edf_distance32(n: int, start: int, stop: int, values: np.ndarray) -> float:  # pragma: no cover
    # D over [start, stop): max |F_j - (j - 1/2)/n| + 1/(2n) (a maximum does not vectorise)
    inv_n = 1.0 / n
    base = start + 0.5
    ks = 0.0
    for ii in range(stop - start):
        ks = max(ks, abs(values[2, ii] - (base + RAMP[ii]) * inv_n))
    return ks + 0.5 * inv_n


@vectorised
def moments32(words: np.ndarray, k: float, top: float, pe: np.ndarray, pm: np.ndarray, start: int, stop: int,
               head: np.ndarray, inverse: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover - compiled
    s0 = s1 = s2 = 0.0
    for i in range(start, stop):
        w = np.int32(words[i])
        e = w >> np.int32(23)
        mantissa = w & np.int32(0x7FFFFF)
        c = mantissa >> np.int32(13)
        t = np.float64(mantissa - (c << np.int32(13)) - np.int32(4096)) * inverse[c]
        s = t * (1.0 - t * (0.5 - t * (1.0 / 3.0 - t * (0.25 - t * 0.2))))
        lt = (np.float64(e - np.int32(127)) * LN2 - top) + (head[c] + s)
        z = k * s
        p = pe[e] * pm[c] * (1.0 + z * (1.0 + z * (0.5 + z * (1.0 / 6.0 + z * (1.0 / 24.0 + z * (
            1.0 / 120.0 + z * (1.0 / 720.0 + z * (1.0 / 5040.0 + z * (1.0 / 40320.0)))))))))
        s0 += p
        pt = p * lt
        s1 += pt
        s2 += pt * lt
    out[0] = s0
    out[1] = s1
    out[2] = s2


@vectorised
def log_sums32(values: np.ndarray, words: np.ndarray, shift: float, factor: float, start: int, stop: int,
               head: np.ndarray, inverse: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover
    s1 = s2 = sx = sxx = 0.0
    for i in range(start, stop):
        w = np.int32(words[i])
        e = w >> np.int32(23)
        mantissa = w & np.int32(0x7FFFFF)
        c = mantissa >> np.int32(13)
        t = np.float64(mantissa - (c << np.int32(13)) - np.int32(4096)) * inverse[c]
        s = t * (1.0 - t * (0.5 - t * (1.0 / 3.0 - t * (0.25 - t * 0.2))))
        u = (np.float64(e - np.int32(127)) * LN2 - shift) + (head[c] + s)
        fx = factor * np.float64(values[i])
        s1 += u
        s2 += u * u
        sx += fx
        sxx += fx * fx
    out[0] = s1
    out[1] = s2
    out[2] = sx
    out[3] = sxx


__all__ = ["BLOCK", "CELL_INVERSE", "CELL_LOG", "EXP_POWERS", "EXP_STEPS", "RAMP", "edf_distance32",
           "edf_sums32", "edf_values32", "log_sums32", "moments32"]
