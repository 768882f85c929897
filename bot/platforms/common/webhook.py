"""What every platform webhook shares: school lookup, rejections, persist-then-ack, send after the response.

A route reads the body (Flask answers 413 above ``app.max_body_bytes``),
verifies and decodes it in its adapter, then calls ``deliver``: every message
goes through ``handlers.dispatch`` (stored, deduplicated, handled, replies
queued in the outbox) and is committed *before* the platform gets its answer.
Platform API calls run only after the answer: replies go to the worker's
bounded send queue (``bot/outbound/send_queue.py``), 微信客服 pulls run when the response
has been written (``call_on_close``); both are best-effort, because the outbox
is persistent and the scheduler drains whatever is left.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from flask import Blueprint, Response, abort, current_app, request

from bot.extension import get_session, lianxin
from bot.message import InboundMessage, UnstorableMessage

log = logging.getLogger(__name__)

# WeChat/WeCom timestamps (seconds) further than this from our clock are refused.
# Retries arrive within seconds; 10 minutes tolerates a server without NTP, and
# the msgid / event-key dedupe makes a replay inside the window harmless.
WECHAT_MAX_SKEW = dt.timedelta(minutes=10)
# DingTalk's own rule for the robot callback sign: one hour.
DINGTALK_MAX_SKEW = dt.timedelta(hours=1)


class Reject(Exception):
    """Refuse a delivery with an HTTP status (403 signature, 400 malformed …)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


def install_errors(bp: Blueprint) -> None:
    """Answer ``Reject`` with its status and a short plain-text body, and log it."""

    @bp.errorhandler(Reject)
    def _rejected(exc: Reject) -> tuple[str, int]:
        log.warning("%s %s rejected %s: %s", request.method, request.path, exc.status, exc.reason)
        return exc.reason, exc.status

    @bp.errorhandler(UnstorableMessage)
    def _unstorable(exc: UnstorableMessage) -> tuple[str, int]:
        log.warning("%s %s rejected 400: %s", request.method, request.path, exc)
        return "malformed ids", 400


def ext() -> Any:
    """Return the application's Lianxin extension."""
    return lianxin()


def session() -> Any:
    """Return the request's database session."""
    return get_session()


def school(code: str, platform: str) -> tuple[int, Any]:
    """Return (school id, that platform's credentials) or answer 404.

    Unknown codes, schools without this platform and codes missing from the
    database all look the same from outside.
    """
    from models.platform_state import school_id_for_code

    creds = ext().settings.platforms.get(code)
    section = getattr(creds, platform, None) if creds is not None else None
    school_id = None
    if section is not None:
        # School codes map to ids for good; remember found ones (one query less per message).
        known = current_app.extensions.setdefault("lianxin.school_ids", {})
        school_id = known.get(code)
        if school_id is None:
            school_id = school_id_for_code(session(), code)
            if school_id is not None:
                known[code] = school_id
    if school_id is None:
        log.info("webhook for unknown school or platform: %s/%s", code[:40], platform)
        abort(404)
    return school_id, section


def body() -> bytes:
    """Return the raw body; Flask raises 413 past MAX_CONTENT_LENGTH."""
    return request.get_data(cache=True)


def same(expected: str, given: str) -> bool:
    """Compare signatures in constant time."""
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


def check_fresh(timestamp: str, now: dt.datetime, window: dt.timedelta, unit_ms: bool = False) -> None:
    """Refuse a missing, non-numeric or stale timestamp (403)."""
    try:
        value = int(timestamp)
    except (TypeError, ValueError):
        raise Reject(403, "bad timestamp") from None
    sent = dt.datetime.fromtimestamp(value / (1000 if unit_ms else 1), dt.UTC) if abs(value) < 10**14 else None
    if sent is None or abs(now - sent) > window:
        raise Reject(403, "stale timestamp")


def parse_json(data: bytes) -> dict[str, Any]:
    """Decode a JSON object body (400 otherwise)."""
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise Reject(400, "malformed JSON") from None
    except RecursionError:  # nested deeper than the parser's stack: no platform sends that
        raise Reject(400, "JSON nested too deep") from None
    if not isinstance(value, dict):
        raise Reject(400, "JSON object expected")
    return value


def from_epoch(value: Any, now: dt.datetime, unit_ms: bool = False) -> dt.datetime:
    """Return a platform's send time, or now when absent or absurd."""
    try:
        stamp = int(value) / (1000 if unit_ms else 1)
        return dt.datetime.fromtimestamp(stamp, dt.UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return now


def deliver(messages: Iterable[InboundMessage], answer: Response | str = "",
            also: Callable[[Any, dt.datetime], list[int]] | None = None) -> Response:
    """Store the messages, commit, answer; handle them and send the replies after the answer.

    Before the answer there is one deduplicating insert per message (the
    platform's retry clock is running); the handlers (classification, tickets,
    replies) run right after it in the worker's inbox thread, and the
    scheduler's ``process_inbox`` sweep handles whatever that thread never
    reached. ``also(session, now)`` may add outbox rows to send with the
    replies (rows that were waiting for this message's reply handle).

    Returns:
        The platform's acknowledgement; a redelivery gets the same one.
    """
    from handlers.pipeline import receive_id

    app_ext, db = ext(), session()
    now = app_ext.now()
    new_ids: list[int] = []
    media = False
    for msg in messages:
        inbound_id = receive_id(msg, session=db, now=now)
        if inbound_id is not None:
            new_ids.append(inbound_id)
            media = media or bool(msg.media)
    extra = also(db, now) if also is not None and new_ids else []  # a redelivery brings nothing new
    db.commit()
    response = answer if isinstance(answer, Response) else Response(answer, mimetype="text/plain")
    if new_ids:
        handle_soon(app_ext, response, new_ids, extra, media=media)
    elif extra:
        send_soon(app_ext, response, extra)
    return response


def handle_soon(app_ext: Any, response: Response, inbound_ids: list[int], outbox_ids: list[int],
                media: bool = False) -> None:
    """Handle stored messages once the answer is out, and send what they queued.

    With ``app.inbox: worker`` the inbox-worker process handles them. Otherwise
    the same threading rule as ``send_soon``: in production the web worker's
    inbox thread is woken (it drains every stored message, this request's and
    any other's) and hands each message's replies to the send queue; with
    ``app.inbox: inline`` (the tests, whose sessions share one connection) the
    inbox is drained in the request thread after the response.
    """
    if app_ext.settings.app.inbox == "worker":  # the inbox-worker process handles them
        if outbox_ids:
            send_soon(app_ext, response, outbox_ids)
        return
    if _mode(app_ext) == "inline":
        def inline() -> None:
            from bot.inbox_worker import InboxWorker

            sent = list(outbox_ids)
            InboxWorker(app_ext, sent.extend).run_once()
            if sent:
                send_ids(app_ext, sent)

        after_response(response, inline)
        return
    sends = send_queue(app_ext)
    if outbox_ids:
        sends.offer(outbox_ids)
    inbox_thread(app_ext).wake(media=media)  # media: it looks for downloads on this pass


def inbox_thread(app_ext: Any) -> Any:
    """Return this app's inbox thread (bot/inbox_worker.py), created on first use."""
    found = current_app.extensions.get("lianxin.inbox_thread")
    if found is None:
        from bot.inbox_worker import InboxThread, InboxWorker

        sends = send_queue(app_ext)
        found = current_app.extensions.setdefault(
            "lianxin.inbox_thread", InboxThread(InboxWorker(app_ext, sends.offer))
        )
    return found


def _mode(app_ext: Any) -> str:
    """Return ``queue`` or ``inline`` (see ``send_soon``): ``app.inbox: inline`` works in the request thread."""
    return "inline" if app_ext.settings.app.inbox == "inline" else "queue"


def send_soon(app_ext: Any, response: Response, ids: list[int]) -> None:
    """Send new outbox rows once the answer is out: via the worker's send queue (bot/outbound/send_queue.py).

    With ``app.inbox: inline`` (the tests: their sessions share one connection,
    which no other thread may use) the rows are sent when the response closes,
    in the request thread.
    """
    if _mode(app_ext) == "inline":
        after_response(response, lambda: send_ids(app_ext, ids))
        return
    send_queue(app_ext).offer(ids)


def send_queue(app_ext: Any) -> Any:
    """Return this app's send queue."""
    from bot.outbound.send_queue import SendQueue

    found = current_app.extensions.get("lianxin.send_queue")
    if found is None:
        found = current_app.extensions.setdefault("lianxin.send_queue", SendQueue(lambda ids: send_ids(app_ext, ids)))
    return found


def after_response(response: Response, work: Callable[[], Any]) -> None:
    """Run ``work`` once the response is written; log, never raise."""

    def run() -> None:
        try:
            work()
        except Exception:  # best effort: the outbox and the scheduler retry
            log.exception("work after the webhook response failed")

    response.call_on_close(run)


def send_ids(app_ext: Any, ids: list[int]) -> int:
    """Send the given outbox rows in a fresh session (the request's one is closed)."""
    db = app_ext.sessionmaker()
    try:
        sent = app_ext.sender.send_ids(db, ids, app_ext.now())
        db.commit()
        return sent
    finally:
        db.close()
