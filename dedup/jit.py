"""numba's ``njit`` with an on-disk cache where one can be written, and none (one warning) where none can.

``numba.njit(cache=True)`` raises ``RuntimeError: cannot cache function ...:
no locator available`` at import time when none of numba's cache locations
is writable: ``NUMBA_CACHE_DIR``, else ``__pycache__`` beside the source,
else the user-wide cache (``~/.cache/numba``). That is exactly how the
service runs in its image: installed by root, run by a user whose home is
not writable. :func:`njit` keeps numba's own rules for where the cache goes
and, when none applies, compiles without a cache (every process then pays
the compile on first use) after ONE warning saying how to fix it.

Every location numba accepts must be *writable*, a warmed cache included
(numba writes a probe file there before it reads anything), so a cache
built at image-build time (``python -m dedup.warm``) must stay writable by
the user that runs the service.

    >>> @njit(nogil=True)  # in a module: @njit(cache=True, nogil=True)
    ... def twice(x):
    ...     return 2 * x
    >>> twice(21)
    42
"""

from __future__ import annotations

import sys
import threading
import warnings

import numba as nb

__all__ = ["CacheUnavailableWarning", "njit", "skip_blas_probe"]


class CacheUnavailableWarning(RuntimeWarning):
    """numba has nowhere to write compiled code: kernels compile in every process."""


_warned = False
_lock = threading.Lock()


def _warn_once(func, err: RuntimeError) -> None:
    global _warned
    with _lock:
        if _warned:
            return
        _warned = True
    where = nb.config.CACHE_DIR  # numba reads NUMBA_CACHE_DIR itself
    why = (f"NUMBA_CACHE_DIR={where!r} is not writable" if where
           else "NUMBA_CACHE_DIR is not set, and neither the package's __pycache__ nor the user-wide cache is writable")
    warnings.warn(
        f"numba cannot cache compiled code ({why}); kernels such as {func.__name__!r} will be compiled "
        f"in every process on first use (seconds each). Set NUMBA_CACHE_DIR to a directory this user can "
        f"write, and warm it once with `python -m dedup.warm`. [{err}]",
        CacheUnavailableWarning, stacklevel=3,
    )


def njit(*args, cache: bool = False, **options):
    """``numba.njit`` (same arguments); with ``cache=True``, a cache only where numba can write one.

    Use as ``@njit(cache=True, nogil=True)`` or bare ``@njit``.
    """
    if args:
        if len(args) == 1 and callable(args[0]) and not options:  # bare @njit
            return njit(cache=cache)(args[0])
        raise TypeError("dedup.jit.njit compiles lazily: give options only, no signatures")

    def decorate(func):
        dispatcher = nb.njit(cache=False, **options)(func)
        if cache and hasattr(dispatcher, "enable_caching"):  # not with NUMBA_DISABLE_JIT=1
            try:
                dispatcher.enable_caching()  # what numba.njit(cache=True) does; raises if no locator works
            except RuntimeError as err:
                _warn_once(func, err)
        return dispatcher

    return decorate


class _NoScipyLinalg:
    """An import hook under which ``scipy.linalg`` cannot be found."""

    def find_spec(self, name, path=None, target=None):
        if name == "scipy.linalg" or name.startswith("scipy.linalg."):
            raise ModuleNotFoundError(f"{name} hidden from numba's BLAS probe", name=name)
        return None


def skip_blas_probe() -> None:
    """Load numba's array typing without its BLAS probe: for a process that runs only dedup's kernels.

    On its first compile or cache load numba imports ``numba.np.arraymath``,
    which imports ``scipy.linalg`` when scipy is installed (~0.2-0.5 CPU s) only
    to learn whether ``np.dot`` and friends can be compiled. dedup's kernels
    use no linear algebra, so a command line process (``dedup batch``)
    hides ``scipy.linalg`` from that one import (``import numba`` itself
    imports the top-level ``scipy`` for its version check, which is cheap);
    scipy.linalg stays importable afterwards. Numba code in the same process
    then cannot compile ``np.dot``: never call this in a library user's process.
    """
    if "scipy.linalg" in sys.modules or "numba.np.arraymath" in sys.modules:
        return  # already paid, or nothing to save
    hook = _NoScipyLinalg()
    sys.meta_path.insert(0, hook)
    try:
        import numba.np.arraymath  # noqa: F401
    finally:
        sys.meta_path.remove(hook)
