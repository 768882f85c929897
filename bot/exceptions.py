"""Errors of the platform layer."""

from __future__ import annotations

from config.logs import scrub


class SendError(Exception):
    """Sending failed; ``code`` is the platform's error code when there is one.

    The message is scrubbed of credentials at construction: it is stored in
    ``outbox.last_error``, logged, and listed by ``flask outbox list``.
    """

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(scrub(message))
        self.code = code[:64] if code else code  # outbox.error_code holds 64 characters


class TransientSendError(SendError):
    """Worth retrying later: network errors, 5xx, rate limits, expired tokens."""

    def __init__(self, message: str, code: str | None = None, retry_after: float | None = None) -> None:
        super().__init__(message, code)
        self.retry_after = retry_after


class PermanentSendError(SendError):
    """Retrying will not help (bad recipient, no permission); shown to admins."""


class WindowClosedError(SendError):
    """The channel's reply window is closed for this user (e.g. 45015); use a fallback."""


class AwaitContact(SendError):
    """No way to reach the person until they write to the bot again; keep the row until ``until``."""

    def __init__(self, message: str, until: object, code: str = "await_contact") -> None:
        super().__init__(message, code)
        self.until = until
