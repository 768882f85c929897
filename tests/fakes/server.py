"""A fake platform server: a werkzeug app in a thread that records calls and injects failures."""

from __future__ import annotations

import dataclasses
import itertools
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

# A server-side delay never exceeds this, so a hung test cannot hang forever.
MAX_DELAY = 3.0


@dataclasses.dataclass
class Call:
    """One request the fake received."""

    method: str
    path: str
    args: dict[str, str]
    headers: dict[str, str]
    body: Any

    @property
    def json(self) -> dict[str, Any]:
        return self.body if isinstance(self.body, dict) else {}


@dataclasses.dataclass
class Failure:
    """An injected failure: an HTTP status, a platform errcode, or a slow answer."""

    status: int = 200
    errcode: int | None = None
    delay: float = 0.0
    body: dict[str, Any] | None = None
    path: str | None = None  # only calls whose path ends with this


class FakeServer:
    """Base of the fakes: routing table, call log, tokens, failure queue."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.failures: list[Failure] = []
        self.routes: dict[str, Callable[[Call], Response]] = {}
        self._tokens = itertools.count(1)
        self.token = ""
        self.tokens_issued = 0
        self.lock = threading.Lock()
        self.url = ""
        self.released = threading.Event()  # set when the server stops: slow answers end
        self.changed = threading.Condition()  # notified after every call (tests wait on it)

    # -- test controls -------------------------------------------------
    def fail_next(self, times: int = 1, **failure: Any) -> None:
        """Make the next ``times`` matching calls fail (see ``Failure``)."""
        self.failures.extend(Failure(**failure) for _ in range(times))

    def expire_token(self) -> None:
        """Invalidate the current token, as the platform does after 2 hours."""
        self.token = f"expired-{self.token}"

    def issue_token(self) -> str:
        """Mint a new current token."""
        with self.lock:
            self.token = f"tok-{next(self._tokens)}"
            self.tokens_issued += 1
            return self.token

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Wait until ``predicate()`` is truthy after some call (no sleeping); return its value."""
        with self.changed:
            return self.changed.wait_for(predicate, timeout)

    def sent(self, suffix: str) -> list[Call]:
        """Return the calls to paths ending with ``suffix``."""
        return [c for c in self.calls if c.path.endswith(suffix)]

    # -- WSGI -------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        raw = request.get_data()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        call = Call(request.method, request.path, dict(request.args), dict(request.headers), body)
        self.calls.append(call)
        response = self._failure(call) or self._route(call)
        try:
            return response(environ, start_response)
        finally:
            with self.changed:
                self.changed.notify_all()

    def _failure(self, call: Call) -> Response | None:
        with self.lock:
            failure = next((f for f in self.failures if f.path is None or call.path.endswith(f.path)), None)
            if failure is None:
                return None
            self.failures.remove(failure)
        if failure.delay:
            # Hang like a slow platform until the client has given up (its timeout is
            # shorter) and the test is over; nothing in the test waits on this.
            self.released.wait(min(failure.delay, MAX_DELAY))
        if failure.errcode is not None:
            return self.reply({"errcode": failure.errcode, "errmsg": f"injected {failure.errcode}"})
        return self.reply(failure.body or {"message": "injected failure"}, failure.status)

    def _route(self, call: Call) -> Response:
        handler = self.routes.get(call.path)
        if handler is None:
            return self.reply({"errcode": 404, "errmsg": f"no fake for {call.path}"}, 404)
        return handler(call)

    @staticmethod
    def reply(data: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return Response(json.dumps(data, ensure_ascii=False), status=status, headers=headers,
                        content_type="application/json; charset=utf-8")


@contextmanager
def serving(fake: FakeServer) -> Iterator[FakeServer]:
    """Serve ``fake`` on 127.0.0.1 (random port) for the duration of the block."""
    server = make_server("127.0.0.1", 0, fake, threaded=True)
    fake.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.released.set()
        server.shutdown()
        thread.join(timeout=5)
