"""Editable user-facing texts that adapters and handlers share (``config/welcome.yaml``)."""

from __future__ import annotations

import functools
from pathlib import Path

import yaml

WELCOME_FILE = Path(__file__).resolve().parent / "welcome.yaml"


@functools.cache
def welcome_texts() -> dict[str, str]:
    """Return the welcome texts: ``stranger``, ``bound``, ``group_hint``."""
    return {str(k): str(v) for k, v in (yaml.safe_load(WELCOME_FILE.read_text(encoding="utf-8")) or {}).items()}
