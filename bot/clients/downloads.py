"""Reading a platform's file download with a size cap (the media fetcher's one HTTP rule)."""

from __future__ import annotations

import re
from email.message import Message
from typing import Any

import requests

from bot.exceptions import TransientSendError
from models.media_safety import MediaRefused

_FILENAME = re.compile(r"""filename\*?=(?:UTF-8'')?"?([^";]+)"?""", re.IGNORECASE)


def read_capped(res: requests.Response, max_bytes: int) -> bytes:
    """Return the body; refuse (``too_big``) as soon as it passes ``max_bytes``, before reading the rest."""
    declared = res.headers.get("Content-Length")
    if declared and declared.isdecimal() and int(declared) > max_bytes:
        res.close()
        raise MediaRefused("too_big", f"Content-Length {declared}")
    chunks, total = [], 0
    try:
        for chunk in res.iter_content(1 << 16):
            total += len(chunk)
            if total > max_bytes:
                raise MediaRefused("too_big", f"over {max_bytes} bytes")
            chunks.append(chunk)
    except requests.RequestException as exc:
        raise TransientSendError(f"download interrupted: {type(exc).__name__}", "network") from exc
    finally:
        res.close()
    return b"".join(chunks)


def file_name(res: requests.Response) -> str:
    """Return the file name of ``Content-Disposition``, if any."""
    header = res.headers.get("Content-Disposition") or ""
    if not header:
        return ""
    message = Message()
    message["content-disposition"] = header
    name = message.get_filename() or ""
    if not name:
        found = _FILENAME.search(header)
        name = found.group(1) if found else ""
    from urllib.parse import unquote

    return unquote(name).strip()[:120]


def is_json(res: Any) -> bool:
    """Tell whether an answer is a JSON (error) body instead of the file."""
    kind = (res.headers.get("Content-Type") or "").lower()
    return "json" in kind or kind.startswith("text/plain")
