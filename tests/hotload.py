"""Generators for the hot-story tests and bench: one long story and its
copies, and template briefs (other companies and figures in one template)."""

from __future__ import annotations

import numpy as np

_VOCAB = None


def _vocab() -> list[str]:
    global _VOCAB
    if _VOCAB is None:
        rng = np.random.default_rng(7)
        letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
        _VOCAB = ["".join(rng.choice(letters, rng.integers(3, 10))) for _ in range(5000)]
    return _VOCAB


def story(seed: int = 0, words: int = 400) -> str:
    """A story of ``words`` random words (seeded)."""
    rng = np.random.default_rng(1000 + seed)
    v = _vocab()
    return " ".join(v[i] for i in rng.integers(0, len(v), words)) + "."


_PLACES = ["LONDON", "PARIS", "BERLIN", "MADRID", "ROME", "TOKYO", "SYDNEY", "TORONTO", "NAIROBI", "LIMA"]


def copy_of(text: str, i: int) -> str:
    """The ``i``-th republication: another dateline and credit line."""
    return f"{_PLACES[i % len(_PLACES)]} (Agency {i}) - {text} Reporting by desk {i}."


_SYLL = ["ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "xe", "zo", "be", "da", "fu", "gi", "ho", "ju"]


def company(i: int) -> str:
    parts, n = [], i + 1
    while n:
        parts.append(_SYLL[n % len(_SYLL)])
        n //= len(_SYLL)
    return "".join(parts).capitalize() + " " + ["Holdings", "Corp", "Group", "Industries", "Partners"][i % 5]


def brief(i: int) -> str:
    """A dividend brief from one template: its own company, ticker and figures."""
    rng = np.random.default_rng(50_000 + i)
    c = company(i)
    about = " ".join(_vocab()[j] for j in rng.integers(0, 5000, 40))  # what the company does: its own words
    cents, rev, pct, day = int(rng.integers(5, 300)), int(rng.integers(10, 990)), int(rng.integers(1, 40)), int(rng.integers(1, 28))
    return (f"{c} said on Tuesday its board declared a quarterly dividend of {cents} cents per share, payable on "
            f"March {day} to shareholders of record at the close of business. {c} reported quarterly revenue of "
            f"{rev} million dollars, up {pct} percent from a year earlier, and kept its outlook for the full year "
            f"unchanged. Shares of {c} were little changed in early trading. The company did not give a reason for "
            f"the timing of the announcement. {c} {about}.")
