"""From raw texts to what detection compares: one pipeline, online and batch.

Every text goes through the same steps, whoever asks (the online
:class:`~dedup.deduplicator.Deduplicator` one article at a time, batch
workers a chunk at a time):

1. the size check (:func:`check_size`, ``Params.max_text_bytes``);
2. normalisation (:class:`~dedup.normalisation.Normaliser`), lower case;
3. MinHash signatures and word ids (:func:`dedup.minhash.signatures`);
4. the no-words check: a text with nothing left is rejected.

Example:
    >>> from dedup.normalisation import Normaliser
    >>> got = fingerprint_texts(["Putin signed the treaties on Friday.", "!!!"], Params(num_perm=8), Normaliser())
    >>> got.kept, [(i, str(e)) for i, e in got.rejected]
    ([0], [(1, 'text has no words after normalisation')])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from dedup.errors import DedupError, InvalidArticle, TooLarge
from dedup.minhash import signatures
from dedup.normalisation import Normaliser
from dedup.params import Params

__all__ = ["Fingerprints", "NO_WORDS", "check_size", "fingerprint_texts"]

NO_WORDS = "text has no words after normalisation"
_MAX_UTF8_BYTES_PER_CHAR = 4  # so len(text) * 4 bounds the UTF-8 size without encoding


def check_size(text: str, params: Params) -> None:
    """Raise :class:`TooLarge` for a text over ``params.max_text_bytes`` (UTF-8)."""
    if len(text) * _MAX_UTF8_BYTES_PER_CHAR > params.max_text_bytes:  # cheap bound before encoding
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > params.max_text_bytes:
            raise TooLarge(f"text is {size} bytes; the limit is {params.max_text_bytes}")


class Fingerprints(NamedTuple):
    """The fingerprints of the texts that passed, and why the others did not.

    Attributes:
        kept: input positions of the texts fingerprinted, ascending.
        rejected: ``(position, error)`` of the others, ascending
            (:class:`TooLarge`, or :class:`InvalidArticle` for no words).
        signatures: ``uint32[len(kept), num_perm]``, row ``k`` for ``kept[k]``.
        words: word ids of each kept text (``uint32[n]``, never empty).
        texts: each kept text normalised and lower-cased.
    """

    kept: list[int]
    rejected: list[tuple[int, DedupError]]
    signatures: np.ndarray
    words: list[np.ndarray]
    texts: list[str]


def fingerprint_texts(texts: Sequence[str], params: Params, normaliser: Normaliser) -> Fingerprints:
    """Size-check, normalise and fingerprint ``texts`` (one kernel call for all).

    Args:
        texts: raw article texts.
        params: ``max_text_bytes``, ``num_perm``, ``seed``, ``shingle_size``.
        normaliser: the text normaliser.

    Returns:
        :class:`Fingerprints`; a text that fails a check is in ``rejected``,
        never raised, so one bad text does not lose the others.
    """
    kept: list[int] = []
    rejected: list[tuple[int, DedupError]] = []
    lowered: list[str] = []
    for i, text in enumerate(texts):
        try:
            check_size(text, params)
        except DedupError as exc:
            rejected.append((i, exc))
            continue
        kept.append(i)
        lowered.append(normaliser(text).lower())
    if not lowered:  # signatures() would give one empty word list for no text
        return Fingerprints(kept, rejected, np.empty((0, params.num_perm), np.uint32), [], [])
    sigs, words = signatures(lowered, params.num_perm, params.seed, params.shingle_size)
    lengths = np.fromiter((len(w) for w in words), np.int64, len(words))
    if not lengths.all():
        empty = set(np.flatnonzero(lengths == 0).tolist())
        rejected = sorted(rejected + [(kept[x], InvalidArticle(NO_WORDS)) for x in empty], key=lambda r: r[0])
        kept = [i for x, i in enumerate(kept) if x not in empty]
        lowered = [t for x, t in enumerate(lowered) if x not in empty]
        sigs, words = sigs[lengths > 0], [w for w in words if len(w)]
    return Fingerprints(kept, rejected, sigs, words, lowered)
