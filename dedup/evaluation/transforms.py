"""Seeded text transformations that syndication really makes.

Each transformation is a pure function ``(doc, rng) -> doc`` over a
:class:`Doc` (title and body); all randomness comes from the
``random.Random`` passed in, so a seed fixes the output exactly. Each has a
*category* name under which the evaluation reports its recall.

Categories (``TRANSFORMS``):
    dateline, byline, wire_credit, boilerplate, typography, html,
    whitespace, headline, editor_note: *cosmetic*: the story is intact,
    words are added around it or its characters re-encoded.
    truncate: the first 40-80% of the words, cut at a sentence end when one
    lies in that range, else at a word boundary.
    drop_paragraph: one paragraph (not the lead) removed, or one sentence
    when the text has fewer than three paragraphs.
    reword: synonym swaps and swaps of adjacent words on 5-10% of words.
    ocr_noise: character confusions (rn/m, l/1, O/0, ...) on 1-2% of words.
    reorder: two or more paragraphs moved (a text of fewer than 3 paragraphs
    is first cut into paragraphs at sentence ends).
    insert: 1-3 local sentences, or one local paragraph, from templates with
    varied names and places, at a paragraph boundary after the lead.
    delete: 1-3 sentences (not the lead sentence) removed.
    synonyms: synonym replacement of 5-15% of words (a wider dictionary than
    ``reword``'s, no word swaps; ``reword`` is unchanged).
    figures_respelled: figures written another way, values unchanged
    (5 pct/5%/5 percent, 10 mln/10 million, $3.5 billion/$3.5bn, 1,000/1000).
    update: a later version: 1-3 numbers, dates or weekdays changed, perhaps an
    ``UPDATE 1-`` headline prefix and a correction line; a trailing
    ``Published 12 March 2024`` line moves one day on.
    short_from_long: a 60-120-word brief of sentences taken from the story.

The paragraph and sentence edits, ``truncate``, ``dateline``, ``boilerplate``
and ``typography`` are script-aware: Arabic, CJK, Cyrillic and Devanagari
texts are cut at their own sentence ends (``。`` ``۔`` ``؟`` ...), get
insertions, datelines and boilerplate in their own language, and CJK text is
truncated by characters. Latin texts take the same path (and the same random
draws) as before.

Example:
    >>> import random
    >>> copy = apply_transforms(Doc("Prices rose.", "Oil"), ["dateline"], random.Random(1))
    >>> copy.text
    'NEW YORK (AFP) \u2014 Prices rose.'
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from dedup.evaluation.cosmetic import (
    SYNONYMS, Doc, Transform, boilerplate, byline, dateline, drop_paragraph, editor_note, headline, html_fragments,
    ocr_noise, reword, script_of, truncate, typography, whitespace, wire_credit,
)
from dedup.evaluation.edits import (
    delete, figure_spots, figures_respelled, insert, reorder, short_from_long, synonym_slots, synonyms, update,
)

__all__ = ["Doc", "TRANSFORMS", "COSMETIC", "CONTENT", "apply_transforms", "SYNONYMS", "script_of",
           "synonym_slots", "figure_spots"]


TRANSFORMS: dict[str, Transform] = {
    "dateline": dateline,
    "byline": byline,
    "wire_credit": wire_credit,
    "boilerplate": boilerplate,
    "typography": typography,
    "html": html_fragments,
    "whitespace": whitespace,
    "headline": headline,
    "editor_note": editor_note,
    "truncate": truncate,
    "drop_paragraph": drop_paragraph,
    "reword": reword,
    "ocr_noise": ocr_noise,
    "reorder": reorder,
    "insert": insert,
    "delete": delete,
    "synonyms": synonyms,
    "figures_respelled": figures_respelled,
    "update": update,
    "short_from_long": short_from_long,
}
"""Every transformation by category name."""

COSMETIC = ("dateline", "byline", "wire_credit", "boilerplate", "typography", "html", "whitespace", "headline", "editor_note")
"""Categories that leave the story's words intact (safe to stack on any copy)."""

CONTENT = ("truncate", "drop_paragraph", "reword", "ocr_noise", "reorder", "insert", "delete", "synonyms",
           "figures_respelled", "update", "short_from_long")
"""Categories that change which words the story has; applied before the cosmetic ones."""


def apply_transforms(doc: Doc, names: Sequence[str], rng: random.Random) -> Doc:
    """Apply transformations in a sound order: content changes first, then cosmetic ones.

    ``html`` always goes last (it escapes what the others added).

    Args:
        doc: the original.
        names: category names from :data:`TRANSFORMS`.
        rng: the only source of randomness.

    Returns:
        The transformed copy.

    Raises:
        ValueError: an unknown category name.
    """
    for name in names:
        if name not in TRANSFORMS:
            raise ValueError(f"unknown transformation {name!r}; expected one of {sorted(TRANSFORMS)}")
    order = {name: k for k, name in enumerate(CONTENT + tuple(c for c in COSMETIC if c != "html") + ("html",))}
    for name in sorted(names, key=order.__getitem__):
        doc = TRANSFORMS[name](doc, rng)
    return doc
