"""A small bounded queue per worker process: webhook replies are sent by one daemon thread.

Why not send in the request thread after the response? A send is several
short transactions (claim, deliver, record) plus a platform call of 50–500 ms;
done in the request's worker thread it holds that thread, and under a burst
every worker thread ends up sending instead of answering the platforms. Here
a request only hands its new outbox ids over (``offer``) and returns.

Why this is safe (unlike fire-and-forget threads): the rows are already
committed, so the queue only decides *when* they are tried. When the queue is
full, or the process dies with ids still queued, nothing is lost: the
scheduler's ``drain_outbox`` sends every due row. Two senders never send one
row (the claim). One thread per process bounds the extra load.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable, Iterable

log = logging.getLogger(__name__)

MAX_PENDING = 200  # id lists waiting; beyond that the scheduler's drain takes over
MAX_BATCH_IDS = 200  # ids sent in one go (several requests' rows: DingTalk can batch them)


class SendQueue:
    """Hand outbox ids to a daemon thread that calls ``send(ids)``.

    Args:
        send: sends outbox rows by id in its own session (``bot.platforms.common.webhook.send_ids``).
        maxsize: id lists that may wait; ``offer`` refuses more.
    """

    def __init__(self, send: Callable[[list[int]], object], maxsize: int = MAX_PENDING,
                 name: str = "lianxin-send-queue") -> None:
        self.send = send
        self.name = name
        self._queue: queue.Queue[list[int]] = queue.Queue(maxsize)
        self._lock = threading.Lock()
        self._owner: int | None = None  # the pid whose thread runs (gunicorn forks after create_app)

    def offer(self, ids: Iterable[int]) -> bool:
        """Queue ids for sending; return False (the drain will send them) when the queue is full."""
        self._start()
        try:
            self._queue.put_nowait(list(ids))
        except queue.Full:
            log.info("%s full: leaving the rows to the scheduler's sweep", self.name)
            return False
        return True

    def join(self) -> None:
        """Wait until everything queued has been tried (tests, shutdown)."""
        self._queue.join()

    def _start(self) -> None:
        with self._lock:
            if self._owner == os.getpid():
                return
            self._owner = os.getpid()
            threading.Thread(target=self._run, name=self.name, daemon=True).start()

    def _run(self) -> None:
        while True:
            batches = [self._queue.get()]
            while sum(map(len, batches)) < MAX_BATCH_IDS:
                try:
                    batches.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self.send([i for ids in batches for i in ids])
            except Exception:  # best effort: the rows stay in the outbox for the drain
                log.exception("sending queued outbox rows failed")
            finally:
                for _ in batches:
                    self._queue.task_done()
