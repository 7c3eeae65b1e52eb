"""The one place for the project's numba options.

Caching is on (where the cache folder is writable) and fastmath off (fastmath reorders floating-point sums and breaks
bit-reproducibility). numba's on-disk cache validates a cached function only against
the modification time of the file that defines it, so a change to a helper in another
kernel file would leave a stale compiled caller in use. We therefore key the cache
directory on a hash of every source file in ``sim/kernels``: any edit there sends all
kernels to a fresh directory, and no stale machine code can ever be loaded.

Where that directory cannot be written (a read-only home on a shared cluster install), kernels
are compiled without a cache, with one warning on stderr: numba would otherwise refuse to
define them at all ("cannot cache function ...: no locator available").
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from pathlib import Path
from typing import Callable, TypeVar

import numba

F = TypeVar("F", bound=Callable)

_KERNEL_DIR = Path(__file__).resolve().parent


def _kernel_source_hash() -> str:
    digest = hashlib.sha256()
    digest.update(numba.__version__.encode())
    for path in sorted(_KERNEL_DIR.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _cache_root() -> Path:
    if os.environ.get("NUMBA_CACHE_DIR"):
        return Path(os.environ["NUMBA_CACHE_DIR"]) / "simtrial"
    if os.environ.get("SIMTRIAL_CACHE_DIR"):
        return Path(os.environ["SIMTRIAL_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "simtrial" / "numba"


KERNEL_SOURCE_HASH = _kernel_source_hash()
CACHE_DIR = _cache_root() / KERNEL_SOURCE_HASH


def _writable(directory: Path) -> "str | None":
    """None if kernels can be cached in ``directory``, else why not (one line)."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".probe-"):
            pass
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


_UNCACHED_REASON = _writable(CACHE_DIR)
CACHING = _UNCACHED_REASON is None
if not CACHING:
    print(f"simtrial: warning: cannot write the kernel cache {CACHE_DIR} ({_UNCACHED_REASON}); compiling "
          f"kernels without a cache, so every start compiles them again (set SIMTRIAL_CACHE_DIR or "
          f"NUMBA_CACHE_DIR to a writable folder)", file=sys.stderr)


def _with_cache_dir(decorate: Callable[[F], F], fn: F) -> F:
    # numba reads config.CACHE_DIR once, when the decorator builds the cache locator,
    # so setting it only around decoration leaves the user's own numba code untouched.
    saved = numba.config.CACHE_DIR
    numba.config.CACHE_DIR = str(CACHE_DIR)
    try:
        return decorate(fn)
    finally:
        numba.config.CACHE_DIR = saved


def jit(fn: F) -> F:
    """Serial kernel or helper: nopython, cached, no fastmath."""
    return _with_cache_dir(numba.njit(cache=CACHING, fastmath=False, nogil=True), fn)


def jit_inline(fn: F) -> F:
    """Per-patient helper inlined into its callers at numba IR level: LLVM does not inline a
    function this large, and the call (with its array views) cost half the time per patient."""
    return _with_cache_dir(numba.njit(cache=CACHING, fastmath=False, nogil=True, inline="always"), fn)


def jit_no_refcounts(fn: F) -> F:
    """Serial hot loop compiled without numba's reference counting (NRT): it may not allocate arrays,
    only fill those it is given. Passing arrays to inlined helpers then costs nothing per call."""
    return _with_cache_dir(numba.njit(cache=CACHING, fastmath=False, nogil=True, _nrt=False), fn)


def is_compiled(dispatcher) -> bool:
    """Whether a kernel runs without compiling: compiled in this process, or found in the cache folder.

    (A cache index for the kernel exists; it is keyed by the sources' hash, so it is not stale.)
    """
    if dispatcher.signatures:
        return True
    if not CACHING:
        return False
    cache = getattr(dispatcher, "_cache", None)
    index = getattr(getattr(cache, "_cache_file", None), "_index_path", None)
    return bool(index) and os.path.exists(index)
