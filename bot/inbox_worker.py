"""Handling stored webhook messages: the inbox worker and the web worker's inbox thread.

A webhook stores a message (status ``new``) and answers; everything else
happens here, after the answer. ``InboxWorker.run_once`` drains the inbox:
it claims the oldest unhandled message (``models.inbound.claim_next``: on
PostgreSQL ``FOR UPDATE SKIP LOCKED``, so any number of drainers work side by
side), handles it and commits, one transaction per message, and hands the
replies to a send function. It runs in one of two places (``app.inbox``):

- ``thread`` (default): an ``InboxThread`` in every web worker, woken by each
  new message. Nothing else to run; under a burst the handling competes with
  answering for the same CPU.
- ``worker``: the ``flask inbox-worker`` process (``bot/cli/inbox.py``), which
  polls, at a lower CPU priority; web workers then only verify, store and
  answer, so the platforms get their answer in time even when handling lags.

Either way the scheduler's ``process_inbox`` sweep handles what a crash left.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class InboxWorker:
    """Drain the inbox, handing each message's replies to ``send``."""

    # Looking for media to download costs a (write-locking, on SQLite) transaction: on a pass without
    # a stored picture in view, at most once per this many seconds (retries come due in 30 s or more).
    FETCH_CHECK_SECONDS = 1.0

    def __init__(self, app_ext: Any, send: Callable[[list[int]], object], poll_seconds: float = 0.2) -> None:
        self.app_ext = app_ext
        self.send = send
        self.poll_seconds = poll_seconds
        self.media_waiting = True  # set by the webhook when it stored a message with media
        self._next_fetch_check = 0.0

    def run_once(self) -> int:
        """Handle every message waiting now; return how many were handled."""
        from bot.platforms.media_fetch import fetch_pending
        from handlers.pipeline import process_next

        ext = self.app_ext
        handled = 0
        with ext.sessionmaker() as session:
            if self.media_waiting or time.monotonic() >= self._next_fetch_check:
                self.media_waiting = False
                self._next_fetch_check = time.monotonic() + self.FETCH_CHECK_SECONDS
                try:  # media first: a message with pictures becomes handleable once they are downloaded
                    fetch_pending(ext, session)
                except Exception:  # the database may be restarting: the messages wait for the next pass
                    session.rollback()
                    log.exception("fetching media failed")
            while True:
                now = ext.now()
                try:
                    result = process_next(session=session, settings=ext.settings, registry=ext.registry, now=now,
                                          received_before=now + dt.timedelta(seconds=1))
                    session.commit()
                except Exception:  # the message stays `new`; try again on the next pass
                    session.rollback()
                    log.exception("handling a stored message failed")
                    return handled
                if result is None:
                    return handled
                handled += 1
                if result.outbox_ids:
                    self.send(result.outbox_ids)

    def run(self, stop: threading.Event) -> None:
        """Poll and drain until ``stop`` is set (the inbox-worker process)."""
        while not stop.is_set():
            try:
                busy = self.run_once()
            except Exception:  # the database may be restarting: keep polling
                log.exception("inbox worker pass failed")
                busy = 0
            if not busy:
                stop.wait(self.poll_seconds)


class InboxThread:
    """One daemon thread per web worker process that drains the inbox when woken."""

    def __init__(self, worker: InboxWorker) -> None:
        self.worker = worker
        self._wanted = False
        self._busy = False
        self._cond = threading.Condition()
        self._owner: int | None = None  # the pid whose thread runs (gunicorn forks after create_app)

    def wake(self, media: bool = False) -> None:
        """Ask the thread to drain the inbox (new messages were stored; ``media``: some carry media)."""
        if media:
            self.worker.media_waiting = True
        with self._cond:
            if self._owner != os.getpid():
                self._owner = os.getpid()
                threading.Thread(target=self._run, name="lianxin-inbox", daemon=True).start()
            self._wanted = True
            self._cond.notify_all()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until everything asked for has been drained (tests, shutdown)."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._wanted and not self._busy, timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._wanted)
                self._wanted, self._busy = False, True
            try:
                self.worker.run_once()
            except Exception:  # best effort: the scheduler's sweep handles what is left
                log.exception("inbox thread pass failed")
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
