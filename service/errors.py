"""Every error the service raises, next to the core's in :mod:`dedup.errors`.

Each has a stable ``code`` and an HTTP ``status``; the app's one error
handler turns any :class:`~dedup.errors.DedupError` into
``{"error": {"code", "message"}}``. Nothing outside these two modules
invents an error code: the store raises :class:`StoreUnavailable` and
:class:`NamespaceMismatch` from here (Redis's own exceptions are translated
in one place, ``RedisIndex._translated``), the routes the rest.
"""

from __future__ import annotations

from dedup.errors import DedupError

__all__ = [
    "Forbidden", "InvalidEncoding", "InvalidJSON", "InvalidNamespace", "InvalidOption", "NamespaceMismatch",
    "Overloaded", "RETRY_AFTER_SECONDS", "ServerError", "StoreUnavailable", "Unauthorized", "UnknownField",
    "UnsupportedMediaType", "http_error_code",
]


#: The ``Retry-After`` (seconds) sent with every 503: a retry is safe (see the README's "Errors").
RETRY_AFTER_SECONDS = 1


class StoreUnavailable(DedupError):
    """Redis cannot be reached (or timed out)."""

    code = "store_unavailable"
    status = 503


class Overloaded(DedupError):
    """More requests are waiting in this process than ``MAX_WAITING``, or one
    waited longer than ``QUEUE_TIMEOUT``: shed at once rather than queued."""

    code = "overloaded"
    status = 503


class NamespaceMismatch(DedupError):
    """The namespace was built with other LSH parameters or shard counts."""

    code = "namespace_mismatch"
    status = 409


class ServerError(DedupError):
    """The service could not be started (no redis-server to run, or it did not answer)."""

    code = "server_error"
    status = 500


class InvalidJSON(DedupError):
    """The body is not one JSON value (or not one per line for NDJSON)."""

    code = "invalid_json"
    status = 400


class InvalidEncoding(DedupError):
    """The body is not UTF-8."""

    code = "invalid_encoding"
    status = 400


class UnknownField(DedupError):
    """An article field the API does not know (a typo would be silently lost)."""

    code = "unknown_field"
    status = 400


class InvalidOption(DedupError):
    """A query option out of its bounds (``similarity``, ``explain``)."""

    code = "invalid_option"
    status = 400


class InvalidNamespace(DedupError):
    """A namespace that is not ``[A-Za-z0-9_.-]{1,64}``."""

    code = "invalid_namespace"
    status = 400


class UnsupportedMediaType(DedupError):
    """A body whose Content-Type the route does not take."""

    code = "unsupported_media_type"
    status = 415


class Unauthorized(DedupError):
    """No API key, or an unknown one, while keys are configured."""

    code = "unauthorized"
    status = 401


class Forbidden(DedupError):
    """A valid API key used on a namespace it is not bound to."""

    code = "forbidden"
    status = 403


#: Codes for the errors that werkzeug itself raises (unknown route, wrong
#: method, a body over MAX_CONTENT_LENGTH); others get their name in snake case.
_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}


def http_error_code(status: int | None, name: str | None) -> str:
    """The stable code of a werkzeug ``HTTPException`` (``405`` -> ``method_not_allowed``)."""
    return _HTTP_CODES.get(status or 0, (name or "error").lower().replace(" ", "_"))
