"""The one seed scheme: every random stream is named by a seed and a key of stable names.

A run is identified by one non-negative integer ``seed`` (recorded in its output). A stream
inside it is identified by a key, a tuple of stable names: strings (a tensor name, a study
name, a purpose such as ``"resample"``) and integers (a block number, a sample size). The
stream depends only on the seed and the key, never on how many other streams were made
before it, so results do not depend on iteration order, worker count or cluster layout.

The key's parts are hashed with SHA-256 (strings as UTF-8, integers as their decimal text
with a type tag) into 32-bit words that, after the seed, form the entropy of a
:class:`numpy.random.SeedSequence`; generators use numpy's SFC64 bit generator (uniform
draws about 40% faster than PCG64 here).
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

import numpy as np

Key = str | int

#: Bits of a fresh seed (:func:`fresh_seed`): at most 10 decimal digits, short enough to
#: retype from a printed line, and about 4.3 billion values, enough to tell runs apart.
SEED_BITS = 32


def fresh_seed() -> int:
    """A new run seed from the operating system's entropy, ``0 <= seed < 2**SEED_BITS``.

    The one place a seed is drawn when none is given: every result and command that records
    or prints a seed shows this short integer, and passing it back (``rng=seed``, ``--seed
    SEED``) reproduces the run exactly.

    Examples
    --------
    >>> 0 <= fresh_seed() < 2**SEED_BITS
    True
    """
    return secrets.randbits(SEED_BITS)


def _words(part: Key) -> list[int]:
    if isinstance(part, bool) or not isinstance(part, str | int | np.integer):
        raise TypeError(f"a stream key part must be a str or an int; got {part!r}")
    tag = "s" if isinstance(part, str) else "i"
    digest = hashlib.sha256(f"{tag}:{part}".encode()).digest()
    return [int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4)]


def seed_sequence(seed: int, *key: Key) -> np.random.SeedSequence:
    """The :class:`numpy.random.SeedSequence` of stream ``key`` under ``seed``.

    Examples
    --------
    >>> a = seed_sequence(0, "bootstrap", 3).generate_state(1)[0]
    >>> bool(a == seed_sequence(0, "bootstrap", 3).generate_state(1)[0])
    True
    >>> bool(a == seed_sequence(0, "bootstrap", 4).generate_state(1)[0])
    False
    """
    words = [w for part in key for w in _words(part)]
    return np.random.SeedSequence([int(seed), *words])


def generator(seed: int, *key: Key) -> np.random.Generator:
    """Generator of stream ``key`` under ``seed`` (SFC64).

    Examples
    --------
    >>> float(generator(1, "x").random()) == float(generator(1, "x").random())
    True
    """
    return np.random.Generator(np.random.SFC64(seed_sequence(seed, *key)))


def child_seed(seed: int, *key: Key) -> int:
    """A 63-bit integer seed for stream ``key`` under ``seed``: what a scan records per tensor,
    so that ``rng=child_seed(...)`` reproduces that tensor's numbers on its own.

    Examples
    --------
    >>> child_seed(0, "encoder.layer.0.attention.self.query.weight", "") == child_seed(
    ...     0, "encoder.layer.0.attention.self.query.weight", "")
    True
    >>> child_seed(0, "a.weight", "q") != child_seed(0, "a.weight", "k")
    True
    """
    state = seed_sequence(seed, *key).generate_state(2, np.uint32)
    return (int(state[0]) | (int(state[1]) << 32)) & ((1 << 63) - 1)


def check_seed(seed: Any, name: str = "seed") -> int:
    """A non-negative integer seed.

    Examples
    --------
    >>> check_seed(7)
    7
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"`{name}` must be a non-negative integer; got {seed!r}")
    return int(seed)


def seed_entropy(rng: Any) -> int:
    """The integer seed of a run from an ``rng`` argument, recorded in its result.

    An ``int`` is used as given; ``None`` draws a short fresh seed (:func:`fresh_seed`); a
    :class:`numpy.random.Generator` gives one draw of the same size (so passing a generator
    advances it). Anything else is refused. The returned integer, passed back as ``rng``,
    reproduces the run.

    Examples
    --------
    >>> seed_entropy(5)
    5
    """
    if isinstance(rng, bool):
        raise TypeError(f"`rng` must be a numpy Generator, an int seed or None; got {rng!r}")
    if isinstance(rng, int | np.integer):
        return check_seed(rng, "rng")
    if rng is None:
        return fresh_seed()
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"`rng` must be a numpy Generator, an int seed or None; got {type(rng).__name__}")
    return int(rng.integers(0, 2**SEED_BITS))
