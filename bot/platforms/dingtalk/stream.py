"""DingTalk Stream mode: robot messages over an outbound websocket, no public URL needed.

``flask --app app dingtalk-stream`` runs one connection per school whose
``dingtalk.mode`` is ``stream``. The official ``dingtalk-stream`` SDK parses
the frames, routes the robot topic to our handler and writes the ack; we
open the connection (``/v1.0/gateway/connections/open`` on the configured
DingTalk API host, with a timeout) and reconnect with exponential backoff,
which the SDK's own loop does not (it waits a fixed 3 or 10 s, forever).

Each robot message is stored exactly like the HTTP callback's: the same
``bot.platforms.dingtalk.webhook.to_message`` normalisation, the same deduplicating insert
into the inbox, committed **before** the SDK sends the ack (a crash before
the commit means no ack, so DingTalk delivers again). Handling, replies
included, happens after the ack, in the inbox thread (or the inbox-worker
process with ``app.inbox: worker``), as for webhooks.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import quote_plus

import dingtalk_stream
import requests
import websockets
from dingtalk_stream import AckMessage, CallbackHandler, CallbackMessage, ChatbotMessage, Credential

from bot.extension import lianxin
from bot.platforms.common.webhook import Reject

log = logging.getLogger(__name__)

OPEN_PATH = "/v1.0/gateway/connections/open"
TOPIC = ChatbotMessage.TOPIC  # /v1.0/im/bot/messages/get


@dataclasses.dataclass(frozen=True)
class Backoff:
    """Waits between reconnects: ``initial`` doubling up to ``maximum``; reset once connected."""

    initial: float = 1.0
    maximum: float = 60.0

    def next(self, current: float) -> float:
        return min(current * 2, self.maximum)


DEFAULT_BACKOFF = Backoff()


class RobotHandler(CallbackHandler):
    """The robot topic: store the message (and commit) before the SDK acks it."""

    def __init__(self, store: Callable[[dict[str, Any]], bool], stored: Callable[[str], None]) -> None:
        super().__init__()
        self.logger = log
        self._store, self._stored = store, stored

    async def process(self, message: CallbackMessage) -> tuple[int, str]:
        """Store in a worker thread (database work must not block the websocket loop).

        A database failure raises: no ack is sent and DingTalk delivers again.
        A message that can never be stored (no msgId, …) is acked 400 so it is
        not redelivered forever.
        """
        try:
            new = await asyncio.to_thread(self._store, message.data if isinstance(message.data, dict) else {})
        except Reject as exc:
            log.warning("dingtalk stream: frame refused (%s)", exc.reason)
            return AckMessage.STATUS_BAD_REQUEST, exc.reason
        if new:
            self._stored(str(message.headers.message_id or ""))
        return AckMessage.STATUS_OK, "OK"


class SchoolStream(dingtalk_stream.DingTalkStreamClient):
    """One school's stream connection.

    Args:
        school_code: the school (its credentials' key).
        app_key / app_secret: the DingTalk app's AppKey/AppSecret (clientId/clientSecret).
        store: stores one robot payload and commits; returns whether it was new.
        after_ack: called once a new message's ack has been sent.
        api_base: the DingTalk API host (``platform_api.dingtalk_api``).
        timeout: seconds for the gateway request.
    """

    def __init__(self, school_code: str, app_key: str, app_secret: str, *, store: Callable[[dict[str, Any]], bool],
                 after_ack: Callable[[], None], api_base: str, timeout: float, backoff: Backoff = DEFAULT_BACKOFF) -> None:
        super().__init__(Credential(app_key, app_secret), logger=log)
        self.school_code, self.api_base, self.timeout, self.backoff = school_code, api_base.rstrip("/"), timeout, backoff
        self.after_ack = after_ack
        self.connections = 0
        self._acked_new: set[str] = set()
        self._lock = threading.Lock()
        self.register_callback_handler(TOPIC, RobotHandler(store, self._mark_new))

    def _mark_new(self, message_id: str) -> None:
        with self._lock:
            self._acked_new.add(message_id)

    def open_connection(self) -> dict[str, Any] | None:
        """Ask the gateway for a websocket endpoint and ticket (None when refused or unreachable)."""
        body = {
            "clientId": self.credential.client_id, "clientSecret": self.credential.client_secret,
            "subscriptions": [{"type": "CALLBACK", "topic": topic} for topic in self.callback_handler_map],
            "ua": f"lianxin dingtalk-stream/{dingtalk_stream.version.VERSION_STRING}", "localIp": "",
        }
        try:
            res = requests.post(self.api_base + OPEN_PATH, json=body, timeout=self.timeout)
        except requests.RequestException as exc:
            log.warning("dingtalk stream %s: gateway unreachable: %s", self.school_code, type(exc).__name__)
            return None
        if res.status_code >= 400:
            log.warning("dingtalk stream %s: gateway refused (HTTP %s) %s", self.school_code, res.status_code,
                        res.text[:200])
            return None
        try:
            found = res.json()
        except ValueError:
            return None
        return found if isinstance(found, dict) and found.get("endpoint") and found.get("ticket") else None

    async def route_message(self, json_message: dict[str, Any]) -> Any:
        """Let the SDK parse, dispatch and ack the frame; then hand new messages to the inbox."""
        result = await super().route_message(json_message)
        headers = json_message.get("headers") if isinstance(json_message.get("headers"), dict) else {}
        with self._lock:
            new = str(headers.get("messageId") or "") in self._acked_new
            self._acked_new.discard(str(headers.get("messageId") or ""))
        if new:
            self.after_ack()
        return result

    async def run(self, stop: asyncio.Event) -> None:
        """Connect, receive and reconnect with backoff until ``stop`` is set."""
        self.pre_start()
        delay = self.backoff.initial
        while not stop.is_set():
            connection = await asyncio.to_thread(self.open_connection)
            if connection is not None:
                uri = f"{connection['endpoint']}?ticket={quote_plus(str(connection['ticket']))}"
                try:
                    await self._receive(uri, stop)
                    delay = self.backoff.initial  # it was up: start the backoff afresh
                except (OSError, websockets.exceptions.WebSocketException) as exc:
                    log.warning("dingtalk stream %s: connection lost: %s", self.school_code, type(exc).__name__)
            if stop.is_set():
                break
            log.info("dingtalk stream %s: reconnecting in %.1f s", self.school_code, delay)
            with contextlib.suppress(TimeoutError):  # woken early by stop
                await asyncio.wait_for(stop.wait(), delay)
            delay = self.backoff.next(delay)

    async def _receive(self, uri: str, stop: asyncio.Event) -> None:
        async with websockets.connect(uri, ping_interval=30) as websocket:
            self.websocket = websocket
            self.connections += 1
            log.info("dingtalk stream %s: connected", self.school_code)
            stopper = asyncio.create_task(_close_on(stop, websocket))
            tasks: set[asyncio.Task] = set()
            try:
                async for raw in websocket:
                    try:
                        frame = json.loads(raw)
                    except ValueError:
                        log.warning("dingtalk stream %s: a frame that is not JSON was ignored", self.school_code)
                        continue
                    task = asyncio.create_task(self.background_task(frame))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
            finally:
                stopper.cancel()
                if tasks:  # frames in flight: let their store and ack finish (or fail) first
                    await asyncio.gather(*tasks, return_exceptions=True)


async def _close_on(stop: asyncio.Event, websocket: Any) -> None:
    await stop.wait()
    await websocket.close()


def store_payload(app: Any, school_code: str, school_id: int, robot_code: str, data: dict[str, Any]) -> bool:
    """Normalise and store one robot payload exactly as the HTTP route does, and commit.

    Returns:
        Whether the message was new (False: a redelivery, nothing stored).
    """
    from bot.platforms.common import webhook
    from bot.platforms.dingtalk.webhook import to_message
    from handlers.pipeline import receive_id

    with app.app_context():
        msg = to_message(data, school_id, robot_code)
        db = webhook.session()
        new_id = receive_id(msg, session=db, now=webhook.ext().now())
        db.commit()
        return new_id is not None


def stream_schools(settings: Any, only: str | None = None) -> list[str]:
    """Return the codes of the schools whose DingTalk robot runs in stream mode."""
    return [code for code, creds in settings.platforms.items()
            if creds.dingtalk is not None and creds.dingtalk.mode == "stream" and (only is None or code == only)]


def build_streams(app: Any, codes: list[str], after_ack: Callable[[], None], backoff: Backoff = DEFAULT_BACKOFF
                  ) -> list[SchoolStream]:
    """Return one ``SchoolStream`` per school code (schools missing from the database are skipped)."""
    from models.platform_state import school_id_for_code

    ext = lianxin(app)
    streams = []
    for code in codes:
        with ext.sessionmaker() as db:
            school_id = school_id_for_code(db, code)
        if school_id is None:
            log.warning("dingtalk stream: school %s is configured but not in the database", code)
            continue
        creds = ext.settings.platforms[code].dingtalk

        def store(data: dict[str, Any], code: str = code, school_id: int = school_id,
                  robot: str = creds.robot_code) -> bool:
            return store_payload(app, code, school_id, robot, data)

        streams.append(SchoolStream(code, creds.app_key, creds.app_secret, store=store, after_ack=after_ack,
                                    api_base=ext.settings.platform_api.dingtalk_api,
                                    timeout=ext.settings.platform_api.timeout_seconds, backoff=backoff))
    return streams


def inbox_waker(app: Any) -> Callable[[], None]:
    """Return what to call after a new message's ack: wake this process's inbox thread.

    With ``app.inbox: worker`` the inbox-worker process handles the messages
    and this returns a no-op.
    """
    from bot.inbox_worker import InboxThread, InboxWorker
    from bot.outbound.send_queue import SendQueue
    from bot.platforms.common.webhook import send_ids

    ext = lianxin(app)
    if ext.settings.app.inbox == "worker":
        return lambda: None
    sends = SendQueue(lambda ids: send_ids(ext, ids), name="lianxin-stream-send")
    thread = InboxThread(InboxWorker(ext, sends.offer))
    return lambda: thread.wake(media=True)  # a Stream payload may carry a picture: look for downloads each time


async def run_streams(streams: list[SchoolStream], stop: asyncio.Event) -> None:
    """Run every school's connection until ``stop`` is set."""
    await asyncio.gather(*(stream.run(stop) for stream in streams))
