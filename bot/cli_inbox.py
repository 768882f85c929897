"""``flask inbox-worker``: the process that handles webhook messages when ``app.inbox`` is ``worker``."""

from __future__ import annotations

import os
import signal
import threading

import click
from flask.cli import with_appcontext


@click.command("inbox-worker")
@click.option("--poll", default=0.2, show_default=True, help="Seconds between polls when the inbox is empty.")
@click.option("--nice", "niceness", default=10, show_default=True,
              help="Lower CPU priority, so that web workers answer the platforms first under load.")
@with_appcontext
def inbox_worker_command(poll: float, niceness: int) -> None:
    """Handle stored webhook messages (run one or more next to gunicorn with app.inbox=worker)."""
    from app import lianxin
    from bot.inbox_worker import InboxWorker
    from bot.send_queue import SendQueue
    from bot.webhook import send_ids

    if niceness:
        os.nice(niceness)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    ext = lianxin()
    if ext.settings.app.inbox != "worker":
        click.echo("提示：app.inbox 不是 worker，网页进程也会自己处理消息（两者同时运行是安全的）。", err=True)
    click.echo("连心消息处理进程已启动（Ctrl-C 退出）")
    sends = SendQueue(lambda ids: send_ids(ext, ids), name="lianxin-inbox-worker-send")
    try:
        InboxWorker(ext, sends.offer, poll_seconds=poll).run(stop)
    except KeyboardInterrupt:
        stop.set()
    sends.join()
