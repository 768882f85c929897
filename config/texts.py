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


MEDIA_FILE = Path(__file__).resolve().parent / "media.yaml"


@functools.cache
def media_texts() -> dict[str, object]:
    """Return the texts about pictures and files: ``refused`` (by reason), ``ask_which`` …"""
    return dict(yaml.safe_load(MEDIA_FILE.read_text(encoding="utf-8")) or {})


def refusal_text(reason: str, max_bytes: int) -> str:
    """Return the Chinese answer for media refused for ``reason``."""
    refused = media_texts()["refused"]
    assert isinstance(refused, dict)
    text = str(refused.get(reason) or refused["broken"])
    return text.format(mb=max_bytes // 1_048_576)
