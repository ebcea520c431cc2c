"""Deterministic random streams: one independent generator per purpose, derived from the seed.

Every random draw in `nexus.synth` comes from `stream(seed, purpose, *keys)`, so adding a draw to
one module never shifts the values another module produces, and the same arguments always give
the same district. Nothing here reads the clock, the environment, or dict/set ordering.
"""

from __future__ import annotations

import zlib

import numpy as np


def stream(seed: int, purpose: str, *keys: int) -> np.random.Generator:
    """A PCG64 generator for `purpose` (and optional integer sub-keys such as a chunk number)."""
    if seed < 0:
        raise ValueError("seed must be a non-negative integer")
    entropy = [seed & 0xFFFFFFFF, (seed >> 32) & 0xFFFFFFFF, zlib.crc32(purpose.encode("utf-8"))]
    entropy.extend(int(k) for k in keys)
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy)))


_HEX = np.frombuffer(b"0123456789ABCDEF", dtype=np.uint8)


def guid_bytes(rng: np.random.Generator, n: int) -> np.ndarray:
    """`n` version-4-shaped GUIDs as a compact `S36` array (upper case, as Campus stores them)."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    digits = np.empty((n, 32), dtype=np.uint8)
    digits[:, 0::2] = _HEX[raw >> 4]
    digits[:, 1::2] = _HEX[raw & 0x0F]
    out = np.full((n, 36), ord("-"), dtype=np.uint8)
    for dst, src in (
        (slice(0, 8), slice(0, 8)),
        (slice(9, 13), slice(8, 12)),
        (slice(14, 18), slice(12, 16)),
        (slice(19, 23), slice(16, 20)),
        (slice(24, 36), slice(20, 32)),
    ):
        out[:, dst] = digits[:, src]
    return out.view("S36").reshape(n)


def guids(rng: np.random.Generator, n: int) -> np.ndarray:
    """`n` GUIDs as an object array of `str` (see `guid_bytes`)."""
    return np.char.decode(guid_bytes(rng, n), "ascii").astype(object)


def unique_integers(rng: np.random.Generator, n: int, low: int, high: int) -> np.ndarray:
    """`n` distinct integers in [low, high), in random order (for MOSIS IDs, local numbers)."""
    if high - low < n:
        raise ValueError(f"cannot draw {n} distinct values from [{low}, {high})")
    if (high - low) <= 4 * n:
        return rng.permutation(np.arange(low, high, dtype=np.int64))[:n]
    out = np.empty(0, dtype=np.int64)
    while out.size < n:
        draw = rng.integers(low, high, size=int((n - out.size) * 1.2) + 16, dtype=np.int64)
        merged = np.concatenate([out, draw])
        _, first = np.unique(merged, return_index=True)
        out = merged[np.sort(first)]
    return out[:n]
