"""Every error the core raises, each with a stable machine-readable code.

The service and the command line turn these into HTTP 4xx bodies and
stderr lines. The service's own errors (HTTP-level: authentication, bodies,
the store) live in ``service/errors.py``; no other module invents a code.
"""

from __future__ import annotations

__all__ = ["DecisionConflict", "DedupError", "InvalidArticle", "InvalidDecision", "InvalidParams", "NotFound", "TooLarge",
           "WorkerDied", "record_place"]


def record_place(locator: str | None, doc_id: str | None = None) -> str:
    """How every bad-record message (command line, batch, Spark) names its
    record: its place in the input (``line 12``, ``row 3``, ``file a.txt``,
    ``entry 4``), then its id when known.

    Example:
        >>> record_place("line 12", "a1"), record_place("line 3"), record_place(None, "a1")
        ("line 12 (id 'a1')", 'line 3', "id 'a1'")
    """
    if locator is None:
        return f"id {doc_id!r}"
    return locator if doc_id is None else f"{locator} (id {doc_id!r})"


class DedupError(Exception):
    """Base class: ``code`` is stable, ``message`` is for people."""

    code = "dedup_error"
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message}


class InvalidArticle(DedupError):
    """An article that cannot be indexed: no text, wrong types, bad id."""

    code = "invalid_article"
    status = 400


class TooLarge(InvalidArticle):
    """An article whose text exceeds ``Params.max_text_bytes``."""

    code = "too_large"
    status = 413


class InvalidParams(DedupError, ValueError):
    """A parameter outside its allowed range (also a ``ValueError``)."""

    code = "invalid_params"
    status = 400


class NotFound(DedupError, KeyError):
    """An id or cluster the index does not hold."""

    code = "not_found"
    status = 404

    def __str__(self) -> str:  # KeyError would repr() the message
        return self.message


class InvalidDecision(DedupError):
    """An editor's decision record that is malformed (:mod:`dedup.decisions`)."""

    code = "invalid_decision"
    status = 400


class DecisionConflict(DedupError):
    """A decision that contradicts the stored ones or the stories as they are
    (a split of articles in different stories, of a story's founder)."""

    code = "decision_conflict"
    status = 409


class WorkerDied(DedupError):
    """A batch worker process died (killed, out of memory) and the batch stopped."""

    code = "worker_died"
    status = 500
