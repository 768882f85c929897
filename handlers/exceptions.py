"""Errors handlers raise to answer the user politely."""

from __future__ import annotations

from typing import Any


class HandlerError(Exception):
    """A refusal or problem whose message is shown to the user (Chinese)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(HandlerError):
    """A command got wrong arguments; the reply is its usage hint."""

    def __init__(self, command: Any, problem: str | None = None) -> None:
        hint = f"用法：{command.usage}"
        super().__init__(f"{problem}\n{hint}" if problem else f"格式不对。{hint}")
        self.command = command


class Forbidden(HandlerError):
    """The person may not do this."""
