"""Text normalisation that knows news.

Two copies of one wire story differ in ways that say nothing about the
story: HTML, entities, curly quotes and dashes, whitespace, a dateline and
wire credit added in front (``KYIV, Ukraine (AP) — ``), a byline, a site's
boilerplate at the top or bottom. :func:`normalise` removes exactly those
and keeps the body; :func:`tokens` cuts the result into words.

Guarantees (tested with hypothesis): it never raises on any ``str``, it is
idempotent (``normalise(normalise(t)) == normalise(t)``), and boilerplate
removal never takes more than three quarters of a text: if the patterns
would, the text keeps its lines (a story *about* a newsletter is still a
story, and a short brief keeps its words). Lines matched by the caller's
own patterns (``Normaliser(boilerplate=...)``: a house footer, see
:mod:`dedup.house`) are the exception: they go even then, unless nothing
would be left.

The boilerplate list is data: pass your own patterns to :class:`Normaliser`
to extend :data:`BOILERPLATE`.
"""

from __future__ import annotations

import functools
import html
import operator
import re
import unicodedata
from dataclasses import dataclass

__all__ = ["BOILERPLATE", "INLINE_BOILERPLATE", "Normaliser", "boilerplate_file", "clean", "normalise", "tokens", "TOKEN_RE"]

# Whole lines that syndication adds around a story. Each pattern must match
# an entire line (it is anchored with fullmatch) and is case-insensitive.
BOILERPLATE: tuple[str, ...] = (
    r"fox news flash top headlines (?:for [\w ,]+ )?are here\.? check out what's clicking on foxnews\.com\.?",
    r"(?:copyright|\(c\)|©)? ?\d{4} (?:the )?associated press\. all rights reserved\..{0,160}",
    r"(?:copyright|©|\(c\)) .{0,80}(?:all rights reserved|may not be (?:published|reproduced)).{0,160}",
    r"this material may not be published, broadcast, rewritten,? or redistributed.{0,60}",
    r"all rights reserved\.?",
    r"sign up (?:for|to) .{0,160}",
    r"(?:read|see) (?:more|also)\s*[:>].{0,200}",
    r"(?:click|tap) here (?:to|for) .{0,160}",
    r"(?:related|more|watch|listen)\s*:.{0,200}",
    r"follow (?:us|[\w@.]+(?: [\w@.]+)?) on (?:twitter|x|facebook|instagram|threads|bluesky).{0,120}",
    r"(?:the )?associated press (?:writers?|reporters?) .{0,200} contributed(?: to this report)?\.?",
    r"(?:reporting|writing|editing|additional reporting) by .{0,200}",
    r"editor'?s'? note\s*:.{0,400}",
    r"reuters?",
    r"this article is more than \w+ (?:years?|months?|weeks?|days?) old\.?",
    r"advertisement",
    r"listen to this article\.?(?: \d+ min(?:utes?)?)?",
    # a dated stamp line: "Published 12 March 2024", "Last updated: 13 March 2024 10:52 GMT"
    r"(?:first |last )?(?:published|updated|posted)(?: on| at)?:? .{0,40}\b(?:1[89]|20)\d\d\b.{0,30}",
)

# A byline: only looked for in the first and last two lines, since a
# hard-wrapped body line ("by the end of the") can look like one.
BYLINE = (r"by [\w.'-]+(?: [\w.'-]+){0,3}"
          r"(?:,? (?:the )?(?:associated press|ap|reuters|afp|bloomberg|upi|staff (?:writer|reporter)|[\w ]{0,30}correspondent))?")

# Fixed sentences that sites glue to the first or last paragraph of a story.
# Stripped only at the start or the end of a line, so they must be specific
# (no open-ended wildcards that could reach into the body).
INLINE_BOILERPLATE: tuple[str, ...] = (
    r"fox news flash top headlines (?:for [\w ,]+ )?are here\. check out what's clicking on foxnews\.com\.",
    r"(?:copyright )?(?:©|\(c\) )?\d{4} (?:the )?associated press\. all rights reserved\.",
    r"this material may not be published, broadcast, rewritten,? or redistributed(?: without permission)?\.",
    r"(?:the )?associated press contributed to this report\.",
    r"click here to get the fox news app\.?",
    r"click here to sign up for [\w' ]{1,60}\.?",
    r"(?:\(c\) |© )?copyright (?:\(c\) |© )?(?:thomson )?reuters(?: limited)? \d{4}\.(?: click for restrictions\.)?",
)

_AGENCY = r"(?:AP|Reuters|AFP|UPI|Bloomberg|dpa|CNN|PA|IANS|PTI|ANI|Xinhua|TASS|Interfax|EFE|ANSA)"
# ``KYIV, Ukraine (AP) — ``, ``LONDON (Reuters) - ``, ``WASHINGTON -- ``,
# ``NEW YORK, March 3 - ``: an upper-case place, optional region or date,
# optional agency, then a dash. Upper case is what keeps a body sentence safe.
_DATELINE = re.compile(
    r"[A-Z][A-Z.'-]+(?: [A-Z][A-Z.'-]+){0,3}"
    r"(?:, [A-Z][\w.'-]*(?: [\w.'-]+){0,2})?"
    r"(?: \(" + _AGENCY + r"\))?"
    r" ?(?:-{1,2}|—|–) ?"
)
# A wire version tag in front of the story: "UPDATE 2-", "UPDATED 7: ", "REFILE-", "CORRECTED-".
_VERSION_TAG = re.compile(r"(?:(?:UPDATE|UPDATED|REFILE|CORRECTED|RPT|WRAPUP)(?: ?\d{1,2})? ?[-:] ?)+", re.I)
_AGENCY_ONLY = re.compile(r"\(" + _AGENCY + r"\) ?(?:-{1,2}|—|–) ?")

_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>|<!--.*?-->", re.S)
_BLOCK_TAG = re.compile(r"</?(?:p|br|div|li|h[1-6]|tr|blockquote)\b[^<>]*>", re.I)
_QUOTES = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'", "`": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
        "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
        "\u00a0": " ", "\u200b": "", "\u200c": "", "\u200d": "", "\ufeff": "", "\u00ad": "",
    }
)
# Control, format, surrogate and private-use characters (Unicode category C).
_CONTROL_CHARS = ("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f"
                  "\ufeff\ufff9-\ufffb\ud800-\udfff\ue000-\uf8ff]")


def _script_char(c: str) -> str | None:
    """What a non-ASCII character becomes: punctuation and symbols of every script a space, digits ASCII.

    Unicode categories ``P*`` (``؟`` ``،`` ``۔`` ``।`` ``。`` ``「`` ...) and ``S*``
    (``•`` ``°`` ``→``, emoji, and the currency signs ``€`` ``£`` ``¥`` ``₹``, once
    ``£5m`` is spelled ``£5 million``) split words; ``Nd`` digits (``٣`` ``५``) become
    ``0-9`` so they are figures; the Arabic decimal and thousands
    separators become ``.`` and ``,``; the tatweel (a stretching stroke)
    goes; quotes and dashes become ASCII (``_QUOTES``); the spaces that
    NFKC keeps (``U+1680``, ``U+2028``, ``U+2029``) become a space. Kept: ``©``
    ``®`` (boilerplate patterns read them), letters and marks, and anything
    beyond plane 1. ``None`` means unchanged. Looked up once per distinct
    character (cached), never as a whole table.
    """
    cp = ord(c)
    if cp in _QUOTES:
        return _QUOTES[cp]
    if cp in _ARABIC_SEPARATORS:
        return _ARABIC_SEPARATORS[cp]
    if cp >= 0x20000 or c in "©®":
        return None
    cat = unicodedata.category(c)
    if cat[0] == "P" or cat[0] == "S" or c.isspace():
        return " "
    if cat == "Nd":
        return str(unicodedata.digit(c))
    return None


_ARABIC_SEPARATORS = {0x066B: ".", 0x066C: ",", 0x0640: ""}
_script = functools.lru_cache(maxsize=4096)(_script_char)
_NON_ASCII = re.compile("[^\x00-\x7f]+")

# A figure is its value, not its spelling (see :func:`_figures`).
_THOUSANDS = re.compile(r",(?<=\d,)(?=\d{3}(?!\d))")
_CURRENCY_M = tuple(re.compile(re.escape(c) + r" ?\d+(?:\.\d+)? ?(?:m|mn|k)\b") for c in "$\u00a3\u20ac\u00a5\u20b9")
_UNIT_NAME = {"%": "pct", "pct": "pct", "per cent": "pct", "percent": "pct", "bn": "billion",
              "bln": "billion", "billion": "billion", "mln": "million", "mn": "million", "million": "million",
              "trillion": "trillion"}
# Every spelling that is not already the canonical name ("5 pct", "5 million" are left alone,
# and so is the rare glued "5pct"), in ONE scan: an alternation of literals, which ``re`` scans
# for their first characters. One ``in`` test per spelling cost more (about 15 us on a 3 KB story
# against 10): ``str.find`` is slow for a short needle whose first letter is common.
_UNITS = re.compile("|".join(re.escape(u) + ("" if u == "%" else r"\b") for u, name in _UNIT_NAME.items() if u != name))


def _currency_m(m: re.Match) -> str:
    g = m.group()
    return g[:-1].rstrip() + " thousand" if g[-1] == "k" else g.rstrip("mn").rstrip() + " million"


def _unit(m: re.Match) -> str:
    s, t = m.start(), m.string
    if s and t[s - 1].isdigit():
        return " " + _UNIT_NAME[m.group()]
    if s > 1 and t[s - 1] == " " and t[s - 2].isdigit():
        return _UNIT_NAME[m.group()]
    return m.group()


def _figures(text: str) -> str:
    """One spelling per figure: ``5%``, ``5 per cent``, ``5 percent`` -> ``5 pct``;
    ``1.13bn``, ``1.13 bln`` -> ``1.13 billion``; ``10m`` after a currency
    sign, ``10 mln``, ``10 mn`` -> ``10 million``; ``$50k`` -> ``$50 thousand``;
    ``1,000`` -> ``1000`` (a comma before exactly three digits). Whole-text
    regexes that start with a literal (the fast path of ``re``), each run
    only when its sign occurs, and one scan for all the unit spellings; a
    Python call per figure found, none per word."""
    if "," in text:
        text = _THOUSANDS.sub("", text)
    if "$" in text:
        text = _CURRENCY_M[0].sub(_currency_m, text)
    return _UNITS.sub(_unit, text)
#: Han ideographs and Kana: scripts written without spaces. Each character
#: is made a word of its own (spaces put around it), so a 5-word shingle is
#: five characters and the alignment runs character by character. Hangul is
#: written with spaces between words and keeps its words.
_CJK_CHARS = "[぀-ヿㇰ-ㇿ㐀-䶿一-鿿豈-﫿𠀀-𯿿]"


@functools.cache
def _nonascii_patterns() -> tuple[re.Pattern, re.Pattern]:
    """``(control, cjk)``: compiled on the first non-ASCII text (~0.1 s of ``re`` work
    for their large character sets, which an ASCII-only process never pays)."""
    return re.compile(_CONTROL_CHARS), re.compile(_CJK_CHARS)
_DASH_RUN = re.compile(r"-{3,}")
_SENTENCE_GAP = re.compile(r"[.!?\"')] ")
_CORE = operator.methodcaller("strip", " .-")  # a line as the boilerplate patterns see it

#: A word: a run of ASCII letters, digits, ``_`` and non-ASCII characters,
#: kept whole across ``.`` between two digits or two non-digits (``1.13bn``,
#: ``u.s``), ``,`` between digits (``1,000``) and ``'`` (``don't``); so
#: ``1.Break`` is two words. Defined on characters so that the numba kernel
#: in :mod:`dedup.minhash` applies the same rule to UTF-8 bytes. Punctuation
#: and symbols of other scripts never reach it: :func:`normalise` turns them
#: into spaces (by Unicode category, one replace per distinct character), so on normalised
#: text a word is a run of letters, marks and digits of any script.
#: (The classes are written as complements, ``[^...]``: the same sets, but ``re``
#: compiles ``[0-9A-Za-z_\x80-\U0010ffff]`` in ~50 ms and its complement at once.)
_W = "^\x00-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f"  # [0-9A-Za-z_\x80-\U0010ffff]
_L = "^\x00-\x40\x5b-\x5e\x60\x7b-\x7f"  # [A-Za-z_\x80-\U0010ffff]
TOKEN_RE = re.compile(f"[{_W}]+(?:(?:(?<=[0-9])[.,](?=[0-9])|(?<=[{_L}])\\.(?=[{_L}])|')[{_W}]+)*")


# ASCII text: controls deleted and tabs made spaces in one bytes.translate (C, one pass).
_ASCII_CONTROL = bytes([*range(0x09), *range(0x0B, 0x20), 0x7F])
_ASCII_TABS = bytes.maketrans(b"\t", b" ")


def _squash(text: str) -> str:
    """Whitespace made canonical in a text whose only whitespace is ``" "`` and ``"\n"``:
    words one space apart, lines one newline apart, no empty line, nothing at either end.
    Equal to ``"\n".join(filter(None, (" ".join(ln.split()) for ln in text.split("\n"))))``,
    in three C-speed scans instead of a Python step per line: runs of spaces become one,
    the one space left before a line break goes, then a line break and every space or
    line break after it become one line break."""
    if "  " in text:  # str.find runs at C speed, and most texts have no double space
        text = _SPACES.sub(" ", text)
    if " \n" in text:
        text = text.replace(" \n", "\n")
    return _BREAKS.sub("\n", text).strip(" \n")


_SPACES = re.compile("  +")
_BREAKS = re.compile("\n[ \n]*")


def _clean(text: str) -> str:
    """Markup, entities, unicode forms, punctuation variants, whitespace."""
    if "<" in text:
        text = _TAG.sub(" ", _BLOCK_TAG.sub("\n", text))
    if "&" in text:
        text = html.unescape(text)
    if not text.isascii() and not text.replace("\n", " ").isprintable():  # C-speed check before the regex
        text = _nonascii_patterns()[0].sub("", text)
    if text.isascii():  # O(1) in CPython: the common case, all in C
        text = text.encode("ascii").translate(_ASCII_TABS, _ASCII_CONTROL).decode("ascii")
    else:
        text = unicodedata.normalize("NFKC", text)
        odd = "".join(set("".join(_NON_ASCII.findall(text))))  # the distinct non-ASCII characters
        for pat, sign in zip(_CURRENCY_M[1:], "\u00a3\u20ac\u00a5\u20b9"):
            if sign in odd:  # "£5m": before the currency signs go
                text = pat.sub(_currency_m, text)
        if "`" in text:
            text = text.replace("`", "'")
        if "\t" in text:
            text = text.replace("\t", " ")
        for c in odd:  # quotes and dashes to ASCII; other punctuation, symbols and spaces to a space
            rep = _script(c)
            if rep is not None:
                text = text.replace(c, rep)
        cjk = _nonascii_patterns()[1]
        if cjk.search(odd):
            text = cjk.sub(r" \g<0> ", text)
    if "---" in text:
        text = _DASH_RUN.sub(" -- ", text)
    return _squash(text)


def clean(text: str) -> str:
    """Only the typographic part of normalisation (no boilerplate or
    dateline removal, no figure spelling), repeated to its fixed point.

    Only markup needs a second pass (an entity can hide a tag or another
    entity), and none is needed once the text is ASCII with no ``<`` or
    ``&`` left: every other step of :func:`_clean` leaves such a text as it is."""
    markup = "<" in text or "&" in text
    text = _clean(text)
    for _ in range(20):  # entities can hide tags and entities: repeat to the fixed point
        if not markup or ("<" not in text and "&" not in text and text.isascii()):
            break
        nxt = _clean(text)
        if nxt == text:
            break
        text = nxt
    return text


@dataclass(frozen=True)
class Normaliser:
    """A configured normaliser.

    Args:
        boilerplate: extra whole-line patterns (regular expressions, matched
            case-insensitively against a full line) added to
            :data:`BOILERPLATE`.
        inline: extra fixed sentences stripped where they open or close a
            paragraph, added to :data:`INLINE_BOILERPLATE`.
        strip_datelines: remove a leading dateline / wire credit.

    Example:
        >>> n = Normaliser(boilerplate=(r"subscribe to the daily brief.*",))
        >>> n("Subscribe to the Daily Brief now\\nThe central bank raised interest rates on Thursday.")
        'The central bank raised interest rates on Thursday.'
    """

    boilerplate: tuple[str, ...] = ()
    inline: tuple[str, ...] = ()
    strip_datelines: bool = True

    def __post_init__(self) -> None:
        for kind, extra in (("boilerplate", self.boilerplate), ("inline", self.inline)):
            for n, pattern in enumerate(extra, 1):  # each on its own: an error's position is in the user's pattern
                try:
                    re.compile(pattern, re.I)
                except re.error as exc:
                    raise ValueError(f"{kind} pattern {n} ({pattern!r}): invalid: {exc}") from None
        lines = "|".join(f"(?:{p})" for p in BOILERPLATE + tuple(self.boilerplate))
        inline = "|".join(f"(?:{p})" for p in INLINE_BOILERPLATE + tuple(self.inline))
        try:
            object.__setattr__(self, "_bp", re.compile(lines, re.I))
            own = "|".join(f"(?:{p})" for p in self.boilerplate)
            object.__setattr__(self, "_own", re.compile(own, re.I) if own else None)
            object.__setattr__(self, "_byline", re.compile(BYLINE, re.I))
            object.__setattr__(self, "_head", re.compile(rf"(?:{inline})(?: |$)", re.I))
            object.__setattr__(self, "_inline", re.compile(rf"(?:{inline})", re.I))
            object.__setattr__(self, "_tail", re.compile(rf"{_SENTENCE_GAP.pattern}((?:{inline}))\Z", re.I))
        except re.error as exc:
            raise ValueError(f"boilerplate: invalid pattern: {exc}") from None

    def _strip(self, text: str) -> str:
        lines = text.split("\n")
        if lines:  # inline sentences glued to the story's first or last paragraph
            m = self._head.match(lines[0])
            if m:
                lines[0] = lines[0][m.end() :].strip()
            lines[-1] = self._cut_tail(lines[-1])
        cores = list(map(_CORE, lines))
        gone = list(map(self._bp.fullmatch, cores))  # one C call per line, no Python step
        n = len(lines)
        for i in {0, 1, n - 2, n - 1} & set(range(n)):  # a byline only in the first and last two lines
            gone[i] = gone[i] or self._byline.fullmatch(cores[i])
        if any(gone) or not all(lines):
            lines = [ln for ln, g in zip(lines, gone) if ln and not g]
        if lines:
            m = _VERSION_TAG.match(lines[0])
            if m and m.end() < len(lines[0]):
                lines[0] = lines[0][m.end():]
        if self.strip_datelines and lines:
            first = lines[0]
            m = _DATELINE.match(first) or _AGENCY_ONLY.match(first)
            if m and m.end() < len(first):
                lines[0] = first[m.end():]
        return "\n".join(lines).strip()

    def _cut_tail(self, line: str) -> str:
        """Drop inline boilerplate that closes ``line``: tried from each of
        the last sentence starts only, not from every position."""
        lo = max(0, len(line) - 400)
        if lo == 0 and self._inline.fullmatch(line):
            return ""
        m = self._tail.search(line, lo)  # the first sentence start from which the rest is boilerplate
        return line[: m.start(1)].strip() if m else line

    def __call__(self, text: str) -> str:
        """Normalise ``text``; see the module docstring for the guarantees."""
        if not isinstance(text, str):
            raise TypeError(f"text must be str, not {type(text).__name__}")
        cleaned = clean(text)
        stripped = cleaned
        for _ in range(20):
            nxt = self._strip(stripped)
            if nxt == stripped:
                break
            stripped = nxt
        whole = self._own_removed(cleaned)
        if len(stripped) * 4 < len(whole):
            return _figures(whole)
        return _figures(stripped)

    def _own_removed(self, cleaned: str) -> str:
        """``cleaned`` without the lines the caller's own patterns match: what
        the quarter rule keeps (your house footer goes even from a brief shorter
        than it), unless nothing would be left."""
        if self._own is None:
            return cleaned
        kept = [ln for ln in cleaned.split("\n") if not self._own.fullmatch(_CORE(ln))]
        return "\n".join(kept) if kept else cleaned


def boilerplate_file(path: str) -> Normaliser:
    """A :class:`Normaliser` with the extra whole-line patterns of the file
    at ``path`` (UTF-8, one regular expression a line, blank lines skipped):
    ``dedup batch --boilerplate`` and the service's ``BOILERPLATE_FILE``.

    Raises:
        OSError, UnicodeDecodeError: the file cannot be read.
        ValueError: a pattern does not compile (naming it).
    """
    with open(path, encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    return Normaliser(boilerplate=tuple(ln.strip() for ln in lines if ln.strip()))


_DEFAULT = Normaliser()


def normalise(text: str) -> str:
    """Normalise with the default :class:`Normaliser`.

    Example:
        >>> normalise('KYIV, Ukraine (AP) \u2014 Putin said \u201call available means\u201d\u2026')
        'Putin said "all available means"...'
    """
    return _DEFAULT(text)


def tokens(normalised: str) -> list[str]:
    """The words of a normalised text, lower-cased, punctuation dropped."""
    return TOKEN_RE.findall(normalised.lower())
