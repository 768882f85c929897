"""A fake DingTalk Stream gateway: ``connections/open`` over HTTP plus a websocket that pushes frames.

The HTTP half is a route on ``FakeDingTalk`` (the same host as the robot
APIs, as on api.dingtalk.com); the websocket half is a ``websockets`` sync
server on 127.0.0.1. Frames are the SDK's: ``{specVersion, type, headers
{messageId, topic, …}, data: "<json string>"}``; the client's acks
``{code, headers {messageId}, message, data}`` are recorded in order.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.sync.server import ServerConnection, serve
from werkzeug.wrappers import Response

from tests.fakes.dingtalk import FakeDingTalk
from tests.fakes.server import Call

ROBOT_TOPIC = "/v1.0/im/bot/messages/get"
_ids = itertools.count(1)


class FakeStreamGateway:
    """Issue tickets, accept websocket connections that show one, push frames and record acks."""

    def __init__(self, api: FakeDingTalk) -> None:
        self.api = api
        self.ws_url = ""
        self.opened: list[dict[str, Any]] = []  # bodies of connections/open
        self.acks: list[dict[str, Any]] = []
        self.connections: list[ServerConnection] = []
        self.on_ack: Callable[[dict[str, Any]], None] | None = None
        self.refuse_open = 0  # answer the next N connections/open with HTTP 500
        self.changed = threading.Condition()
        self._tickets: set[str] = set()
        api.routes["/v1.0/gateway/connections/open"] = self.open_connection

    # -- HTTP: /v1.0/gateway/connections/open --------------------------------
    def open_connection(self, call: Call) -> Response:
        body = call.json
        with self.changed:
            self.opened.append(body)
            self.changed.notify_all()
            if self.refuse_open:
                self.refuse_open -= 1
                return self.api.reply({"code": "ServiceUnavailable", "message": "injected"}, 500)
        if not body.get("clientId") or not body.get("clientSecret"):
            return self.api.reply({"code": "InvalidAuthentication", "message": "clientId/clientSecret"}, 401)
        ticket = f"ticket-{next(_ids)}"
        self._tickets.add(ticket)
        return self.api.reply({"endpoint": self.ws_url, "ticket": ticket})

    # -- websocket ---------------------------------------------------------------
    def handle(self, connection: ServerConnection) -> None:
        query = parse_qs(urlsplit(connection.request.path).query)
        ticket = (query.get("ticket") or [""])[0]
        if ticket not in self._tickets:
            connection.close(code=1008, reason="bad ticket")
            return
        self._tickets.discard(ticket)
        with self.changed:
            self.connections.append(connection)
            self.changed.notify_all()
        for raw in connection:
            ack = json.loads(raw)
            if self.on_ack is not None:
                self.on_ack(ack)
            with self.changed:
                self.acks.append(ack)
                self.changed.notify_all()

    # -- test controls -------------------------------------------------------------
    def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Wait (on the condition, no sleeping) until ``predicate()`` holds."""
        with self.changed:
            return self.changed.wait_for(predicate, timeout)

    def push(self, data: dict[str, Any], message_id: str | None = None, topic: str = ROBOT_TOPIC) -> str:
        """Send a CALLBACK frame carrying ``data`` on the newest connection; return its messageId."""
        message_id = message_id or f"stream-{next(_ids)}"
        frame = {
            "specVersion": "1.0", "type": "CALLBACK",
            "headers": {"appId": "app-1", "connectionId": "conn-1", "contentType": "application/json",
                        "messageId": message_id, "time": str(int(time.time() * 1000)), "topic": topic},
            "data": json.dumps(data, ensure_ascii=False),
        }
        self.connections[-1].send(json.dumps(frame, ensure_ascii=False))
        return message_id

    def acks_for(self, message_id: str) -> list[dict[str, Any]]:
        return [a for a in self.acks if (a.get("headers") or {}).get("messageId") == message_id]

    def drop(self) -> None:
        """Drop the newest connection the way a restarting gateway does (close code 1011)."""
        self.connections[-1].close(code=1011, reason="gateway restarting")


@contextmanager
def stream_gateway(api: FakeDingTalk) -> Iterator[FakeStreamGateway]:
    """Serve the websocket half on 127.0.0.1 (random port) for the block."""
    gateway = FakeStreamGateway(api)
    with serve(gateway.handle, "127.0.0.1", 0) as server:
        gateway.ws_url = f"ws://127.0.0.1:{server.socket.getsockname()[1]}/connect"
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield gateway
        finally:
            for connection in gateway.connections:
                connection.close()
            server.shutdown()
            thread.join(timeout=5)
