"""Where a normalised word lies in the ORIGINAL text, in characters.

Detection counts words of the normalised text (:func:`dedup.normalisation.normalise`
then :func:`~dedup.normalisation.tokens`): a :class:`~dedup.types.Passage`'s
``a_start``/``a_end`` are word offsets there. A person reads the original,
with its markup, entities, curly quotes, dateline and boilerplate. This module
maps one onto the other using only normalisation's public functions, so it
holds whatever normalisation does inside:

1. the original's words, with their character spans: :data:`TOKEN_RE` over
   the text with every non-ASCII punctuation or symbol character replaced by
   a space (one character for one, so offsets stay the original's);
2. the normalised words, exactly the ones passages count;
3. an alignment of the two word sequences (rapidfuzz ``Indel``, on words).
   Aligned words take their original's span; a run that normalisation
   rewrote (``caf&eacute;`` -> ``café``, ``$10m`` -> ``$10 million``,
   ``1,000`` -> ``1000``) shares the run's spans in proportion; a word that
   normalisation added (``pct`` for ``%``) takes the non-space characters
   between its neighbours; original words that normalisation dropped
   (dateline, byline, boilerplate lines, tag names) are the ``removed`` spans.

Example:
    >>> m = text_map("LONDON (Reuters) - Shares rose 5% on Monday.")
    >>> [m.text[s:e] for s, e in zip(m.starts, m.ends)]
    ['Shares', 'rose', '5', '%', 'on', 'Monday']
    >>> [m.text[s:e] for s, e in m.removed]
    ['LONDON (Reuters)']
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from rapidfuzz.distance import Indel

from dedup.normalisation import TOKEN_RE, Normaliser, normalise, tokens
from dedup.types import Passage

__all__ = ["SEGMENT_KINDS", "TextMap", "add_char_offsets", "char_passages", "segments", "text_map"]

#: An added word takes the characters between its neighbours only when they are this few (``%``, ``m``).
_GAP_MAX = 8


@lru_cache(maxsize=1)
def _separators() -> dict[int, str]:
    """Non-ASCII punctuation, symbols, separators and format characters to a
    space: one character for one, so the original's offsets hold."""
    table = {}
    for cp in range(0x80, 0x20000):
        cat = unicodedata.category(chr(cp))
        if cat[0] in "PSZ" or cat in ("Cc", "Cf"):
            table[cp] = " "
    return table


@dataclass(frozen=True, eq=False)
class TextMap:
    """The original text and, for each normalised word ``i``, its span
    ``text[starts[i]:ends[i]]`` (empty when normalisation added the word out
    of nothing); ``removed``: spans of original words normalisation dropped."""

    text: str
    starts: np.ndarray
    ends: np.ndarray
    removed: tuple[tuple[int, int], ...]

    def __len__(self) -> int:
        return len(self.starts)

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The characters of normalised words ``[start, end)``: from the
        first one's start to the last one's end (``ValueError`` if empty or
        out of range)."""
        if not 0 <= start < end <= len(self.starts):
            raise ValueError(f"words [{start}, {end}) are not within the text's {len(self.starts)} words")
        return int(self.starts[start:end].min()), int(self.ends[start:end].max())


def _original_words(text: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    spaced = text.translate(_separators()) if not text.isascii() else text
    spans = np.array([m.span() for m in TOKEN_RE.finditer(spaced)], np.int64).reshape(-1, 2)
    lowered = spaced.lower()
    words = TOKEN_RE.findall(lowered) if len(lowered) == len(spaced) else []
    if len(words) != len(spans):  # lower case changed a length or a word's edges ("İ"): word by word
        words = [spaced[s:e].lower() for s, e in spans.tolist()]
    return words, spans[:, 0].copy(), spans[:, 1].copy()


def _blocks(ops) -> Iterable[tuple[bool, int, int, int, int]]:
    """The alignment as ``(equal, src_start, src_end, dest_start, dest_end)``,
    every run of inserts and deletes between two equal runs merged into one."""
    pending = None
    for op in ops:
        if op.tag == "equal":
            if pending:
                yield False, *pending
                pending = None
            yield True, op.src_start, op.src_end, op.dest_start, op.dest_end
        elif pending is None:
            pending = [op.src_start, op.src_end, op.dest_start, op.dest_end]
        else:
            pending[1], pending[3] = op.src_end, op.dest_end
    if pending:
        yield False, *pending


def text_map(text: str, normaliser: Normaliser | None = None) -> TextMap:
    """Map the normalised words of ``text`` to character spans of ``text``.

    Args:
        text: the original article text.
        normaliser: the one detection used (default: :func:`normalise`'s).

    Returns:
        A :class:`TextMap` with one span per word of
        ``tokens(normaliser(text))``, the words passages count.
    """
    norm_fn = normaliser or normalise
    norm = tokens(norm_fn(text))
    words, o_start, o_end = _original_words(text)
    starts, ends = np.zeros(len(norm), np.int64), np.zeros(len(norm), np.int64)
    removed: list[tuple[int, int]] = []
    for equal, s0, s1, d0, d1 in _blocks(Indel.opcodes(words, norm)):
        if equal:
            starts[d0:d1], ends[d0:d1] = o_start[s0:s1], o_end[s0:s1]
        elif d0 == d1:  # original words dropped
            removed.append(_widened(text, int(o_start[s0]), int(o_end[s1 - 1])))
        elif s0 == s1:  # words added out of nothing
            starts[d0:d1], ends[d0:d1] = _gap(text, int(o_end[s0 - 1]) if s0 else 0,
                                              int(o_start[s0]) if s0 < len(words) else len(text))
        else:
            # the neighbours on both sides go into the local alignment too, as anchors
            a0, a1 = (1 if s0 and d0 else 0), (1 if s1 < len(words) and d1 < len(norm) else 0)
            st, en = starts[d0 - a0:d1 + a1], ends[d0 - a0:d1 + a1]
            keep = st.copy(), en.copy()
            removed += _rewritten(text, norm_fn, norm[d0 - a0:d1 + a1], (o_start[s0 - a0:s1 + a1], o_end[s0 - a0:s1 + a1]), st, en)
            if a0:
                st[0], en[0] = keep[0][0], keep[1][0]
            if a1:
                st[-1], en[-1] = keep[0][-1], keep[1][-1]
    return TextMap(text, starts, ends, tuple(removed))


def _gap(text: str, lo: int, hi: int) -> tuple[int, int]:
    """What is glued to the previous word's end (``%`` after ``5``), when
    it is a few characters, else an empty span there."""
    m = _GLUED.match(text, lo, hi)
    if m.end() > lo and m.end() - lo <= _GAP_MAX:
        return m.span()
    return lo, lo


_GLUED = re.compile(r"[^\s<>]*")
_PIECE_BEFORE = re.compile(r"[^\s<>]*\Z")
_CHUNK = re.compile(r"<[^<>]*>|[^\s<>]+")
_CORE = re.compile(r"[\w$%\u00a3\u20ac\u00a5\u20b9&](?:.*[\w%;])?", re.DOTALL)
_EDGE_BEFORE = re.compile(r"[^\w\s]+\Z")
_EDGE_AFTER = re.compile(r"[^\w\s]+")


def _trimmed(text: str, lo: int, hi: int) -> tuple[int, int]:
    """A piece without the punctuation around it (``don’t.`` -> ``don’t``), keeping figure signs."""
    m = _CORE.search(text, lo, hi)
    return m.span() if m else (lo, hi)


def _widened(text: str, lo: int, hi: int) -> tuple[int, int]:
    """A dropped run with the punctuation glued to its ends (``<``, ``(AP)``)."""
    before = _EDGE_BEFORE.search(text, max(0, lo - 8), lo)
    after = _EDGE_AFTER.match(text, hi)
    return (before.start() if before else lo), (after.end() if after else hi)


def _rewritten(text, norm_fn, norm: list[str], orig: tuple[np.ndarray, np.ndarray],
               starts: np.ndarray, ends: np.ndarray) -> list[tuple[int, int]]:
    """A run of original words that normalisation rewrote (entities,
    figures, ligatures, glued punctuation): each piece of the original
    between spaces and tags is normalised alone, and its words are aligned
    with the run's normalised words; a piece whose words align gives them
    its span, the others are dropped (returned). Words still unplaced share
    the run's spans in proportion. Fills ``starts``/``ends`` in place."""
    o_start, o_end = orig
    lo = _PIECE_BEFORE.search(text, max(0, int(o_start[0]) - 16), int(o_start[0])).start()  # "$" of "$10m"
    hi = _GLUED.match(text, int(o_end[-1])).end() if int(o_end[-1]) < len(text) else len(text)
    keys: list[str] = []
    owner: list[int] = []
    pieces = [m.span() for m in _CHUNK.finditer(text, lo, max(hi, int(o_end[-1])))]
    for i, (lo, hi) in enumerate(pieces):
        got = tokens(norm_fn(text[lo:hi])) if text[lo] != "<" else []
        keys += got
        owner += [i] * len(got)
    # proportional first, then the pieces' exact answers over it
    k, n_src, n_dst = np.arange(len(norm)), len(o_start), len(norm)
    first = k * n_src // n_dst
    last = np.maximum(((k + 1) * n_src + n_dst - 1) // n_dst, first + 1) - 1
    starts[:], ends[:] = o_start[first], o_end[last]
    used = set()
    for op in Indel.opcodes(keys, norm):
        if op.tag == "equal":
            for src, dst in zip(range(op.src_start, op.src_end), range(op.dest_start, op.dest_end)):
                starts[dst], ends[dst] = _trimmed(text, *pieces[owner[src]])
                used.add(owner[src])
    return [(lo, hi) for i, (lo, hi) in enumerate(pieces) if i not in used and text[lo] != "<"
            and any(owner[j] == i for j in range(len(owner)))]


def char_passages(passages: Sequence[Passage], a: TextMap, b: TextMap | None = None) -> list[dict]:
    """Passages (word offsets of ``a`` and ``b``) as character spans of the
    original texts: ``char_start``/``char_end`` in ``a`` and, when ``b`` is
    given, ``their_char_start``/``their_char_end`` in ``b``.

    Raises:
        ValueError: a passage outside its text's words (the text is not the
            one the passages were computed on).
    """
    out = []
    for p in passages:
        d = dict(zip(("char_start", "char_end"), a.span(p.a_start, p.a_end)))
        if b is not None:
            d.update(zip(("their_char_start", "their_char_end"), b.span(p.b_start, p.b_end)))
        out.append(d)
    return out


def add_char_offsets(duplicates: list[dict], mine: str, theirs: Mapping[str, str | None],
                     normaliser: Normaliser | None = None) -> None:
    """Give the passages of an API answer (``duplicates`` as
    :meth:`Link.to_dict` with ``me`` writes them: ``start``/``end`` in my
    words, ``their_start``/``their_end`` in theirs) their characters:
    ``char_start``/``char_end`` in ``mine``, the text asked about, and
    ``their_char_start``/``their_char_end`` in the duplicate's original
    text when ``theirs`` has it (by id). In place; a side whose text does
    not hold the passage's words (not the text it was computed on) is left out."""
    my_map = None
    for dup in duplicates:
        found = dup.get("passages")
        if not found:
            continue
        my_map = my_map or text_map(mine, normaliser)
        other = theirs.get(dup["id"])
        their_map = text_map(other, normaliser) if other else None
        for p in found:
            for m, (lo, hi), names in ((my_map, ("start", "end"), ("char_start", "char_end")),
                                       (their_map, ("their_start", "their_end"), ("their_char_start", "their_char_end"))):
                if m is None:
                    continue
                try:
                    p.update(zip(names, m.span(p[lo], p[hi])))
                except ValueError:
                    pass


#: Segment kinds of :func:`segments`.
SEGMENT_KINDS = ("plain", "match", "diff", "removed")
_WORDLIKE = re.compile(r"\w")


def segments(text: str, matched: Sequence[tuple[int, int]], removed: Sequence[tuple[int, int]] = ()) -> list[tuple[str, str, int]]:
    """Cut ``text`` into runs to show: ``("match", run, n)`` inside the
    ``n``-th matched span (numbered from 1, so both sides of a pair number
    their passages alike), ``("removed", run, 0)`` in what normalisation
    dropped (and no match), ``("diff", run, 0)`` for other words (what the
    other text does not share), ``("plain", run, 0)`` for spaces and
    punctuation between them. Vectorised over characters: one label per
    character, runs found with numpy.

    Example:
        >>> segments("Advertisement. Shares rose; bonds fell.", [(15, 26)], [(0, 13)])
        [('removed', 'Advertisement', 0), ('plain', '. ', 0), ('match', 'Shares rose', 1), ('plain', '; ', 0), ('diff', 'bonds fell', 0), ('plain', '.', 0)]
    """
    if not text:
        return []
    labels = np.zeros(len(text), np.int32)
    for lo, hi in removed:
        labels[lo:hi] = -1
    for n, (lo, hi) in enumerate(matched, 1):
        labels[lo:hi] = n
    cuts = [0, *(np.flatnonzero(np.diff(labels)) + 1).tolist(), len(text)]
    out: list[tuple[str, str, int]] = []
    for lo, hi in itertools.pairwise(cuts):
        run, label = text[lo:hi], int(labels[lo])
        if label > 0:
            out.append(("match", run, label))
        elif label < 0:
            out.append(("removed", run, 0))
        else:  # words the other text lacks, with the spaces and punctuation around them apart
            out += [("diff" if _WORDLIKE.search(piece) else "plain", piece, 0) for piece in _split_words(run) if piece]
    return out


_WORD_RUNS = re.compile(r"(\w(?:.*\w)?)", re.DOTALL)


def _split_words(run: str) -> list[str]:
    """``". bonds fell."`` -> ``[". ", "bonds fell", "."]``: words with what lies between them, edges apart."""
    return _WORD_RUNS.split(run, maxsplit=1)
