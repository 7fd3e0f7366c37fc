"""Command-line options shared by the commands: the detection parameters, the record fields."""

from __future__ import annotations

import importlib.util

import click

from dedup.errors import InvalidParams
from dedup.params import Params

__all__ = ["field_options", "params_options", "params_from_options"]

_OPTIONS = [
    click.option("--similarity", "--threshold", "similarity", type=float, default=None,
                 help="Word-sequence similarity for a near duplicate, (0-1]: 0.8 = 80% of both texts' words line up."),
    click.option("--containment", type=float, default=None,
                 help="Share of the shorter text found, in order, in the longer for 'contained', (0-1]."),
    click.option("--lsh-threshold", type=float, default=None, help="Estimated Jaccard where LSH starts proposing candidates."),
    click.option("--shingle-size", type=int, default=None, help="Words per shingle."),
    click.option("--num-perm", type=int, default=None, help="MinHash permutations."),
    click.option("--min-contained-tokens", type=int, default=None, help="Shortest text (words) that may be declared contained."),
    click.option("--reuse", type=float, default=None,
                 help="Also look for reworded copies by their reused sentences, (0-1] (batch only; off by default: "
                      "copies with paragraphs moved are found without it, as 'reused' links)."),
]
_NAMES = ("similarity", "containment", "lsh_threshold", "shingle_size", "num_perm", "min_contained_tokens", "reuse")


def params_options(f):
    """Decorate a command with the detection parameters as options."""
    for opt in reversed(_OPTIONS):
        f = opt(f)
    return f


def params_from_options(kwargs: dict) -> Params:
    """Pop the detection options from a command's ``kwargs`` into :class:`Params`
    (options left unset keep the defaults)."""
    given = {k: kwargs.pop(k) for k in _NAMES if k in kwargs}
    try:
        return Params(**{k: v for k, v in given.items() if v is not None})
    except InvalidParams as exc:
        raise click.BadParameter(exc.message) from None


def field_options(f):
    """Decorate a command with ``--id-field`` and ``--text-field``."""
    f = click.option("--text-field", default="text", show_default=True,
                     help="The field (JSONL key, CSV column) holding the article's text.")(f)
    return click.option("--id-field", default="id", show_default=True,
                        help="The field holding the article's id (records without one get a hash of their text).")(f)


#: ``--encoding``: the text encoding of a feed dump (every command that reads one).
encoding_option = click.option("--encoding", default="utf-8", show_default=True,
                               help="Text encoding of JSONL, CSV and .txt input (e.g. cp1252, utf-16).")


def require_extra(module: str, extra: str, what: str) -> None:
    """A one-line error naming the extra to install when ``module`` (an
    optional dependency) is missing, before any work starts."""
    if importlib.util.find_spec(module) is None:
        raise click.ClickException(f"{what} needs {module}, which is not installed: pip install 'dedup-news[{extra}]'")
