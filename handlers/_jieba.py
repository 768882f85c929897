"""Import jieba without the two things a web worker never uses (about 20 MB of a worker's memory).

- ``pkg_resources`` (~14 MB): jieba 0.42's ``_compat`` imports it only to open its own data
  files and falls back to a plain ``open()`` beside its ``__file__`` when it is missing, so it is
  hidden while jieba is imported (unless something already imported it).
- the HMM model of ``jieba.finalseg`` (~7 MB of probability tables): the classifier segments
  with ``HMM=False`` (handlers/_segment.py). ``jieba.finalseg`` is a stand-in module that imports
  the real one on first attribute access, so ``jieba.lcut(text)`` with the HMM still works
  (the benchmark's baseline, the tests), it just pays for the tables when first used.

Import jieba through this module (``from handlers._jieba import jieba``) wherever the
classifier needs it; whichever module imports jieba first decides.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types
from typing import Any

__all__ = ["jieba"]

_FINALSEG = "jieba.finalseg"
_lock = threading.RLock()


class _LazyFinalseg(types.ModuleType):
    """Stands in for jieba.finalseg until an attribute is asked for, then becomes the real one."""

    def __getattr__(self, name: str) -> Any:
        with _lock:
            real = sys.modules.get(_FINALSEG)
            if real is self or real is None:
                del sys.modules[_FINALSEG]
                real = importlib.import_module(_FINALSEG)  # also rebinds jieba.finalseg to the real module
        return getattr(real, name)


def _import() -> types.ModuleType:
    if "jieba" in sys.modules:
        return sys.modules["jieba"]
    with _lock:
        spec = importlib.util.find_spec("jieba")
        if spec is not None and spec.submodule_search_locations and _FINALSEG not in sys.modules:
            stand_in = _LazyFinalseg(_FINALSEG)
            stand_in.__spec__ = None
            stand_in.__path__ = []
            sys.modules[_FINALSEG] = stand_in
        hide = "pkg_resources" not in sys.modules
        if hide:
            sys.modules["pkg_resources"] = None  # type: ignore[assignment]  # import → ImportError
        try:
            import jieba
        finally:
            if hide and sys.modules.get("pkg_resources", False) is None:
                del sys.modules["pkg_resources"]
        return jieba


jieba = _import()
