"""Synthetic name pools: first, middle and last names built from syllables, never from real people.

Pools are built once from a fixed internal seed (so "the 17th surname" is the same word in every
district) and sampled per district with Zipf-like frequencies, which gives the realistic mix of
common and rare names that identity matching has to cope with. Only ASCII letters are used, so
names are safe in e-mail addresses and user names.
"""

from __future__ import annotations

from functools import cache

import numpy as np

_ONSETS = (
    "Br",
    "C",
    "D",
    "J",
    "K",
    "L",
    "M",
    "N",
    "R",
    "S",
    "T",
    "Ad",
    "Al",
    "Ar",
    "El",
    "Em",
    "Ev",
    "Gr",
    "H",
    "Is",
    "Ja",
    "Jo",
    "Ka",
    "Ma",
    "Ro",
    "Sa",
    "Th",
    "Tr",
    "V",
    "W",
    "Z",
    "Qu",
    "Fl",
    "Cl",
    "Sh",
    "Ch",
    "B",
    "P",
    "G",
    "F",
)
_VOWELS = ("a", "e", "i", "o", "u", "ai", "ae", "ay", "ee", "ia")
_MIDDLES = ("", "l", "r", "n", "v", "d", "s", "m", "th", "nd", "rl", "ck")
_MALE_ENDS = (
    "on",
    "an",
    "er",
    "el",
    "en",
    "in",
    "o",
    "us",
    "ett",
    "iel",
    "ard",
    "ley",
    "ric",
    "as",
)
_FEMALE_ENDS = (
    "a",
    "ia",
    "ine",
    "elle",
    "ey",
    "ette",
    "ina",
    "ara",
    "lyn",
    "issa",
    "ora",
    "ie",
    "anna",
)

_LAST_PREFIXES = (
    "Ash",
    "Bar",
    "Black",
    "Brad",
    "Bram",
    "Cal",
    "Car",
    "Chal",
    "Dal",
    "Dun",
    "El",
    "Far",
    "Fen",
    "Gar",
    "Hal",
    "Hart",
    "Hol",
    "Kel",
    "Lang",
    "Mar",
    "Mer",
    "Nor",
    "Pem",
    "Ral",
    "Red",
    "Ross",
    "Shel",
    "Stan",
    "Strat",
    "Tal",
    "Thorn",
    "Wal",
    "War",
    "Whit",
    "Win",
    "Wood",
    "Yar",
    "Bel",
    "Cor",
    "Dras",
    "Fair",
    "Glen",
    "Kirk",
    "Lind",
    "Oak",
    "Pres",
    "Quill",
    "Rook",
    "Sel",
    "Tam",
)
_LAST_SUFFIXES = (
    "by",
    "croft",
    "den",
    "field",
    "ford",
    "ham",
    "ley",
    "lock",
    "more",
    "ridge",
    "ston",
    "ton",
    "wick",
    "well",
    "worth",
    "man",
    "er",
    "ing",
    "son",
    "berg",
    "hurst",
    "land",
    "mont",
    "wood",
)
_HISP_PREFIXES = (
    "Al",
    "Be",
    "Ca",
    "Do",
    "Es",
    "Fer",
    "Gal",
    "Lo",
    "Mar",
    "Or",
    "Pa",
    "Ro",
    "San",
    "Ve",
    "Za",
    "Cor",
    "Ibar",
    "Que",
    "Sol",
    "Tor",
)
_HISP_SUFFIXES = (
    "rado",
    "vera",
    "lano",
    "tero",
    "rez",
    "nez",
    "quez",
    "mora",
    "dena",
    "lira",
    "gos",
    "dal",
    "ceda",
    "rena",
    "tillo",
)

_POOL_SEED = 20260706


def _unique(words: list[str]) -> np.ndarray:
    seen: dict[str, None] = {}
    for w in words:
        if 3 <= len(w) <= 12:
            seen.setdefault(w, None)
    return np.array(list(seen), dtype=object)


@cache
def pools() -> dict[str, np.ndarray]:
    """The fixed name pools: `male`, `female`, `last`, `last_hispanic`."""
    rng = np.random.Generator(np.random.PCG64(_POOL_SEED))

    def given(ends: tuple[str, ...], n: int) -> np.ndarray:
        o = rng.choice(np.array(_ONSETS), n)
        v = rng.choice(np.array(_VOWELS), n)
        m = rng.choice(np.array(_MIDDLES), n)
        e = rng.choice(np.array(ends), n)
        return _unique([f"{a}{b}{c}{d}" for a, b, c, d in zip(o, v, m, e, strict=True)])

    last = _unique([p + s.lower() for p in _LAST_PREFIXES for s in _LAST_SUFFIXES])
    hisp = _unique([p + s for p in _HISP_PREFIXES for s in _HISP_SUFFIXES])
    return {
        "male": given(_MALE_ENDS, 4000)[:1500],
        "female": given(_FEMALE_ENDS, 4000)[:1500],
        "last": rng.permutation(last),
        "last_hispanic": rng.permutation(hisp),
    }


def zipf_pick(
    rng: np.random.Generator, pool: np.ndarray, n: int, exponent: float = 1.05
) -> np.ndarray:
    """`n` names from `pool`, the first entries far more common than the last."""
    ranks = np.arange(1, pool.size + 1, dtype=np.float64)
    weights = ranks ** (-exponent)
    weights /= weights.sum()
    return pool[rng.choice(pool.size, size=n, p=weights)]


def given_names(rng: np.random.Generator, is_male: np.ndarray) -> np.ndarray:
    p = pools()
    out = np.empty(is_male.size, dtype=object)
    out[is_male] = zipf_pick(rng, p["male"], int(is_male.sum()))
    out[~is_male] = zipf_pick(rng, p["female"], int((~is_male).sum()))
    return out


def family_names(rng: np.random.Generator, hispanic: np.ndarray) -> np.ndarray:
    p = pools()
    out = np.empty(hispanic.size, dtype=object)
    # Most Hispanic students carry a Spanish-style surname; some do not, and some others do.
    spanish = hispanic & (rng.random(hispanic.size) < 0.8) | (
        ~hispanic & (rng.random(hispanic.size) < 0.01)
    )
    out[spanish] = zipf_pick(rng, p["last_hispanic"], int(spanish.sum()), 0.9)
    out[~spanish] = zipf_pick(rng, p["last"], int((~spanish).sum()), 0.9)
    return out


def town_name(rng: np.random.Generator) -> str:
    """A synthetic town name such as "Ashford" for the district and its buildings."""
    prefix = _LAST_PREFIXES[int(rng.integers(len(_LAST_PREFIXES)))]
    suffix = ("ford", "ton", "ville", "field", "burg", "dale", "wood", "mont", "ridge", "land")[
        int(rng.integers(10))
    ]
    return prefix + suffix
