"""The one frozen parameter object, validated once at construction."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np

from dedup.errors import InvalidParams

__all__ = ["Params", "optimal_bands"]


def _integral(f, lo: float, hi: float, steps: int = 200) -> float:
    xs = np.linspace(lo, hi, steps)
    ys = f(xs)
    return float(np.sum((ys[1:] + ys[:-1]) * np.diff(xs)) / 2)


@lru_cache(maxsize=64)
def optimal_bands(threshold: float, num_perm: int, fp_weight: float = 0.5, fn_weight: float = 0.5) -> tuple[int, int]:
    """Choose LSH ``(bands, rows)`` for a Jaccard threshold.

    Minimises the weighted area under the S-curve ``1 - (1 - s**r)**b``
    below the threshold (false positives) plus the area above it that the
    curve misses (false negatives), over every ``b * r <= num_perm``: the
    same criterion as datasketch's ``MinHashLSH``.

    Example:
        >>> optimal_bands(0.5, 128)
        (25, 5)
    """
    best, best_err = (1, num_perm), math.inf
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            fp = _integral(lambda s: 1 - (1 - s**r) ** b, 0.0, threshold)
            fn = _integral(lambda s: (1 - s**r) ** b, threshold, 1.0)
            err = fp * fp_weight + fn * fn_weight
            if err < best_err:
                best, best_err = (b, r), err
    return best


@dataclass(frozen=True)
class Params:
    """Everything that decides what counts as a duplicate.

    Args:
        num_perm: MinHash permutations (signature length, uint32 each).
        seed: permutation seed; with ``num_perm`` it fixes the permutations
            exactly as datasketch's ``MinHash(num_perm, seed)`` does.
        shingle_size: words per shingle (texts shorter than this use one
            shingle of all their words).
        lsh_threshold: estimated Jaccard at which LSH should start proposing
            candidates. Kept low on purpose so that truncated copies (whose
            Jaccard is their length ratio) still reach the refinement step.
        bands, rows: explicit LSH banding; derived from ``lsh_threshold``
            with :func:`optimal_bands` when left ``None``.
        similarity: token-sequence similarity (rapidfuzz Indel, 0..1) at or
            above which a candidate is a ``near`` duplicate. 0.8 means: after
            normalisation, 80% of the two texts' words line up in order.
        containment: share of the shorter text's words found, in order,
            inside the longer one at or above which it is ``contained``.
        min_contained_tokens: a text shorter than this is never declared
            ``contained`` (a one-line brief is contained in many stories).
        figures_guard: weigh the figures that differ between two texts: a
            few in a long story make the pair an ``update`` (a later version),
            any in a short text that is mostly figures (a template brief)
            reject it (see :func:`dedup.refine.is_update`).
        order_free: share of the shorter text (and of the longer, or else its
            lead) that must be found in the other, in runs of 4 words in any
            order, for a pair that fails the in-order tests to be ``reused``
            (a copy with paragraphs moved, or sentences added or cut here and
            there); ``None`` turns the test off. See :func:`dedup.refine.confirm`.
        shared_opening: words (at least) of passages a text must take,
            word for word, from the other's opening for a pair that fails
            the tests above to be ``reused``: a copy that kept the other's
            first paragraphs and added its own text (they must also be
            :data:`dedup.refine.OPENING_SHARE` of it); ``None`` turns the
            test off. 60 is more than the lead paragraph or two that two
            different texts may share (a roundup that opens with a story's
            first two paragraphs: 48 words, the longest of the evaluation
            sets). See :func:`dedup.refine.confirm`.
        min_estimated_containment: batch only: a candidate whose MinHash
            estimate of shingle containment (of the shorter text in the
            longer) is below this is rejected without aligning the words.
            Confirmed pairs measured so far never went below 0.33
            (generated evaluation set) and 0.53 (synthetic bench dump).
        short_in_long: also propose as candidates pairs whose shorter text
            (``min_contained_tokens`` words or more, at most half the longer)
            has enough single MinHash values equal to the longer's
            (:func:`dedup.index.short_in_long`): a brief cut from a feature,
            whose Jaccard is too low for the LSH bands. Same confirmation
            (``contained``). On by default, in batch and online (an index
            without single-value buckets, such as the service's Redis
            index for now, proposes none).
        max_text_bytes: larger texts are refused (``TooLarge``).
        reuse: batch only, off when ``None``: also look for reworded copies
            (:mod:`dedup.reuse`), texts whose sentences were reordered or
            lightly reworded. A pair is ``reused`` when at least this share
            of the shorter text's words lies in sentences found again in the
            other text (each at least ``reuse_sentence`` similar). 0.25
            means: a quarter of the shorter text is sentences taken, at
            least 70% intact, from the other one.
        reuse_sentence: Indel similarity (0..1) a sentence needs with its
            best match (a sentence, or two adjacent ones) to count as reused.

    Raises:
        InvalidParams: naming the argument and the allowed range.
    """

    num_perm: int = 128
    seed: int = 1
    shingle_size: int = 5
    lsh_threshold: float = 0.2
    bands: int | None = None
    rows: int | None = None
    similarity: float = 0.8
    containment: float = 0.85
    min_contained_tokens: int = 30
    figures_guard: bool = True
    order_free: float | None = 0.8
    shared_opening: int | None = 60
    min_estimated_containment: float = 0.25
    max_text_bytes: int = 1_000_000
    short_in_long: bool = True
    reuse: float | None = None
    reuse_sentence: float = 0.7
    _banding: tuple[int, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        def check(ok: bool, name: str, why: str) -> None:
            if not ok:
                raise InvalidParams(f"{name}={getattr(self, name)!r}: {why}")

        check(isinstance(self.num_perm, int) and 8 <= self.num_perm <= 1024, "num_perm", "must be an int in [8, 1024]")
        check(isinstance(self.seed, int) and 0 <= self.seed < 2**32, "seed", "must be an int in [0, 2**32)")
        check(isinstance(self.shingle_size, int) and 1 <= self.shingle_size <= 16, "shingle_size", "must be an int in [1, 16]")
        check(isinstance(self.min_estimated_containment, (int, float)) and 0.0 <= self.min_estimated_containment <= 1.0,
              "min_estimated_containment", "must be a number in [0, 1]")
        for name in ("lsh_threshold", "similarity", "containment"):
            v = getattr(self, name)
            check(isinstance(v, (int, float)) and 0.0 < v <= 1.0, name, "must be a number in (0, 1]")
        check(isinstance(self.min_contained_tokens, int) and self.min_contained_tokens >= 1, "min_contained_tokens", "must be an int >= 1")
        check(self.reuse is None or (isinstance(self.reuse, (int, float)) and 0.0 < self.reuse <= 1.0),
              "reuse", "must be None (off) or a number in (0, 1]")
        check(self.order_free is None or (isinstance(self.order_free, (int, float)) and 0.0 < self.order_free <= 1.0),
              "order_free", "must be None (off) or a number in (0, 1]")
        check(self.shared_opening is None or (isinstance(self.shared_opening, int) and self.shared_opening >= 1),
              "shared_opening", "must be None (off) or an int >= 1")
        check(isinstance(self.reuse_sentence, (int, float)) and 0.0 < self.reuse_sentence <= 1.0,
              "reuse_sentence", "must be a number in (0, 1]")
        check(isinstance(self.max_text_bytes, int) and self.max_text_bytes >= 1, "max_text_bytes", "must be an int >= 1")
        if (self.bands is None) != (self.rows is None):
            raise InvalidParams("bands and rows must be given together (or both left None)")
        if self.bands is None:
            banding = optimal_bands(float(self.lsh_threshold), self.num_perm)
        else:
            check(isinstance(self.bands, int) and self.bands >= 1, "bands", "must be an int >= 1")
            check(isinstance(self.rows, int) and self.rows >= 1, "rows", "must be an int >= 1")
            if self.bands * self.rows > self.num_perm:
                raise InvalidParams(f"bands*rows={self.bands * self.rows} exceeds num_perm={self.num_perm}")
            banding = (self.bands, self.rows)
        object.__setattr__(self, "_banding", banding)

    @property
    def banding(self) -> tuple[int, int]:
        """``(bands, rows)`` actually used by the LSH index."""
        return self._banding

    def with_(self, **changes) -> "Params":
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__ if not k.startswith("_")}
        d["bands"], d["rows"] = self.banding
        return d
