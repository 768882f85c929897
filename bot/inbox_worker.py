"""The inbox worker: handles stored webhook messages in a process of its own.

With ``app.inbox: worker`` the web workers only verify, store and answer (one
insert per message), and this process does the rest: it polls the inbox for
``new`` messages, handles each in its own transaction (the claim in
``models.inbound.claim_inbound`` lets several workers, the web workers' inbox
threads and the scheduler's ``process_inbox`` sweep run side by side without
handling a message twice) and hands the replies to its send thread.

It runs at a lower CPU priority by default (``--nice``): when a burst arrives,
answering the platforms inside their retry window matters more than how fast
the replies follow, and the backlog is persistent.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import Any

from bot.send_queue import SendQueue
from bot.webhook import handle_ids, send_ids
from models.inbound import unhandled_ids

log = logging.getLogger(__name__)

BATCH = 100


class InboxWorker:
    """Poll the inbox and handle what is waiting."""

    def __init__(self, app_ext: Any, poll_seconds: float = 0.2) -> None:
        self.app_ext = app_ext
        self.poll_seconds = poll_seconds
        self.sends = SendQueue(lambda ids: send_ids(app_ext, ids), name="lianxin-inbox-worker-send")

    def run_once(self) -> int:
        """Handle every message waiting now, batch by batch; return how many were handled."""
        total = 0
        while True:
            with self.app_ext.sessionmaker() as session:
                # Everything stored up to now: the web workers answered these already.
                ids = unhandled_ids(session, self.app_ext.now() + dt.timedelta(seconds=1), limit=BATCH)
            if not ids:
                return total
            handled = handle_ids(self.app_ext, ids, self.sends.offer)
            total += handled
            if handled == 0:
                return total  # all taken by someone else (or failing): poll again later

    def run(self, stop: threading.Event) -> None:
        """Handle messages until ``stop`` is set."""
        while not stop.is_set():
            try:
                busy = self.run_once()
            except Exception:  # the database may be restarting: keep polling
                log.exception("inbox worker pass failed")
                busy = 0
            if not busy:
                stop.wait(self.poll_seconds)
        self.sends.join()
