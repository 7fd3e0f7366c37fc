"""Service configuration: defaults, then ``DEDUP_*`` variables, then the
mapping given to ``create_app`` (what the caller passes wins).

Every setting can come from the environment with the ``DEDUP_`` prefix
(``DEDUP_REDIS_URL``, ``DEDUP_RETENTION_DAYS`` ...); Flask parses the values
as JSON when they are JSON (numbers, ``null``, objects), else keeps the
string. :func:`validate` checks every setting once, at app creation, and
names the one that is wrong.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from dedup.errors import InvalidParams
from dedup.normalisation import Normaliser, boilerplate_file
from dedup.params import Params
from dedup_service.store import valid_namespace

__all__ = ["DEFAULTS", "ENV_PREFIX", "normaliser", "params", "parse_api_keys", "validate"]

ENV_PREFIX = "DEDUP"

#: Every setting the service reads, with its default.
DEFAULTS: dict[str, object] = {
    "REDIS_URL": "redis://127.0.0.1:6379/0",  # `dedup serve` starts a private one when not given
    "REDIS_CLUSTER": False,  # true: REDIS_URL names any node of a Redis Cluster
    "REDIS_TIMEOUT": 2.0,  # seconds: connect and read timeout -> 503 when Redis is down
    "KEY_PREFIX": "dd",
    "DEFAULT_NAMESPACE": "default",
    "CAPACITY": 200_000,  # expected live articles per namespace: sizes the hash shards
    "RETENTION_DAYS": 30,  # 0 or null: keep forever
    "RETENTION_BY": "added",  # or "published"
    "MAX_TEXT_BYTES": 1_000_000,
    "MAX_BATCH_BYTES": 64_000_000,
    "STORE_TEXT": True,  # keep each article's original text, zlib-compressed (GET /v1/articles/<id>?text=true)
    "SIMILARITY_MIN": 0.5,  # bounds of the ?similarity= override
    "SIMILARITY_MAX": 1.0,
    "API_KEYS": None,  # "key1=ns1,ns2;key2=*" or a JSON object {"key": ["ns", ...]}
    "PARAMS": None,  # optional mapping of dedup.Params overrides
    "BOILERPLATE_FILE": None,  # extra boilerplate patterns, one a line (as `dedup batch --boilerplate`)
    "MAX_CONCURRENT": 4,  # requests at work per process (service/backpressure.py) ...
    "MAX_WAITING": 16,  # ... waiting for a turn, beyond which a request is shed (503 overloaded) ...
    "QUEUE_TIMEOUT": 1.0,  # ... and the longest wait (seconds)
}


def parse_api_keys(value: object) -> dict[str, frozenset[str]] | None:
    """``{"key": {"ns", ...}}`` from ``"k1=ns1,ns2;k2=*"`` or a mapping; ``None`` when unset.

    Raises:
        InvalidParams: a malformed value.
    """
    if value in (None, "", {}):
        return None
    if isinstance(value, str):
        out = {}
        for part in filter(None, (p.strip() for p in value.split(";"))):
            key, sep, spaces = part.partition("=")
            if not sep or not key.strip():
                raise InvalidParams(f"API_KEYS: {part!r} is not key=namespace[,namespace...]")
            out[key.strip()] = [s.strip() for s in spaces.split(",") if s.strip()]
        value = out
    if not isinstance(value, Mapping):
        raise InvalidParams("API_KEYS: expected 'key=ns1,ns2;key2=*' or a JSON object")
    keys = {}
    for key, spaces in value.items():
        if isinstance(spaces, str):
            spaces = [spaces]
        elif not (isinstance(spaces, (list, tuple)) and all(isinstance(ns, str) for ns in spaces)):
            raise InvalidParams(f"API_KEYS: the namespaces of a key must be a string or a list of strings, "
                                f"got {type(spaces).__name__}")
        for ns in spaces:
            if ns != "*" and not valid_namespace(ns):
                raise InvalidParams(f"API_KEYS: namespace {ns!r} of a key is not [A-Za-z0-9_.-]{{1,64}}")
        keys[str(key)] = frozenset(spaces)
    return keys


_PARAM_FIELDS = tuple(f.name for f in dataclasses.fields(Params) if f.init)


def params(config: Mapping) -> Params:
    """The service's :class:`Params`: ``PARAMS`` overrides, ``max_text_bytes``
    from ``MAX_TEXT_BYTES`` unless given there.

    Raises:
        InvalidParams: naming ``PARAMS`` and the key: not a mapping, an
            unknown key (a typo would be silently lost), a value out of
            range, or a batch-only option the online service cannot apply.
    """
    given = config["PARAMS"]
    if given is None:
        given = {}
    if not isinstance(given, Mapping):
        raise InvalidParams(f"PARAMS={given!r}: must be a JSON object of dedup.Params fields")
    unknown = sorted(set(given) - set(_PARAM_FIELDS))
    if unknown:
        raise InvalidParams(f"PARAMS: unknown key(s) {', '.join(map(repr, unknown))}; known: {', '.join(_PARAM_FIELDS)}")
    if given.get("reuse") is not None:
        raise InvalidParams(f"PARAMS: 'reuse'={given['reuse']!r} is batch-only (dedup batch); the service cannot "
                            "apply it: leave it out")
    overrides = dict(given)
    overrides.setdefault("max_text_bytes", config["MAX_TEXT_BYTES"])
    try:
        return Params(**overrides)
    except InvalidParams as e:
        raise InvalidParams(f"PARAMS: {e.message}") from None


def normaliser(config: Mapping) -> Normaliser:
    """The service's :class:`Normaliser`: the default one, plus the patterns
    of ``BOILERPLATE_FILE`` when set.

    Raises:
        InvalidParams: naming ``BOILERPLATE_FILE``: unreadable, or a pattern that does not compile.
    """
    path = config["BOILERPLATE_FILE"]
    if path in (None, ""):
        return Normaliser()
    if not isinstance(path, str):
        raise InvalidParams(f"BOILERPLATE_FILE={path!r}: must be the path of a file of patterns")
    try:
        return boilerplate_file(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidParams(f"BOILERPLATE_FILE={path!r}: cannot read it: {exc}") from None
    except ValueError as exc:
        raise InvalidParams(f"BOILERPLATE_FILE={path!r}: {exc}") from None


def validate(config: Mapping) -> None:
    """Check the settings once, at app creation.

    Raises:
        InvalidParams: naming the setting and why.
    """
    def number(name: str, lo: float, allow_none: bool = False) -> None:
        v = config[name]
        if v is None and allow_none:
            return
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < lo:
            raise InvalidParams(f"{name}={v!r}: must be a number >= {lo}")

    def integer(name: str, lo: int) -> None:
        v = config[name]
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise InvalidParams(f"{name}={v!r}: must be an integer >= {lo}")

    number("REDIS_TIMEOUT", 0.01)
    integer("CAPACITY", 1)
    number("RETENTION_DAYS", 0, allow_none=True)
    integer("MAX_TEXT_BYTES", 1)
    integer("MAX_BATCH_BYTES", 1)
    number("SIMILARITY_MIN", 0)
    number("SIMILARITY_MAX", 0)
    if not 0 < config["SIMILARITY_MIN"] <= config["SIMILARITY_MAX"] <= 1:
        raise InvalidParams("SIMILARITY_MIN/SIMILARITY_MAX: need 0 < min <= max <= 1")
    for name in ("STORE_TEXT", "REDIS_CLUSTER"):
        if not isinstance(config[name], bool):
            raise InvalidParams(f"{name}={config[name]!r}: must be true or false")
    if config["RETENTION_BY"] not in ("added", "published"):
        raise InvalidParams(f"RETENTION_BY={config['RETENTION_BY']!r}: must be 'added' or 'published'")
    if not valid_namespace(config["DEFAULT_NAMESPACE"]):
        raise InvalidParams(f"DEFAULT_NAMESPACE={config['DEFAULT_NAMESPACE']!r}: must be [A-Za-z0-9_.-]{{1,64}}")
    if not isinstance(config["REDIS_URL"], str) or "://" not in config["REDIS_URL"]:
        raise InvalidParams(f"REDIS_URL={config['REDIS_URL']!r}: must be a redis:// or unix:// URL")
    prefix = config["KEY_PREFIX"]
    if not isinstance(prefix, str) or not prefix or "{" in prefix or "}" in prefix:
        raise InvalidParams(f"KEY_PREFIX={prefix!r}: must be a non-empty string without braces")
    parse_api_keys(config["API_KEYS"])
    params(config)
    normaliser(config)
