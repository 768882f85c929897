"""The app the scheduler process runs its jobs against.

APScheduler stores jobs by reference (``scheduler.jobs:daily_digest``) with
plain arguments, so job functions cannot receive the app; the scheduler
process binds its one app here at start-up (as python-telegram-bot's JobQueue
keeps its application) and the jobs look it up.
"""

from __future__ import annotations

from typing import Any

_bound: dict[str, Any] = {}


def bind(ext: Any) -> None:
    """Make ``ext`` (the app's Lianxin extension) the one the jobs use."""
    _bound["ext"] = ext


def current() -> Any:
    """Return the bound extension.

    Raises:
        RuntimeError: if no scheduler process bound an app.
    """
    try:
        return _bound["ext"]
    except KeyError:
        raise RuntimeError("scheduler jobs run only inside `flask --app app scheduler`") from None
