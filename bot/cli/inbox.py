"""``flask inbox-worker``: the process that handles webhook messages when ``app.inbox`` is ``worker``."""

from __future__ import annotations

import os
import signal
import threading

import click
from flask.cli import AppGroup, with_appcontext

from bot.extension import lianxin

inbox_group = AppGroup("inbox", help="Inspect stored webhook messages.")


@click.command("inbox-worker")
@click.option("--poll", default=0.2, show_default=True, help="Seconds between polls when the inbox is empty.")
@click.option("--nice", "niceness", default=10, show_default=True,
              help="Lower CPU priority, so that web workers answer the platforms first under load.")
@with_appcontext
def inbox_worker_command(poll: float, niceness: int) -> None:
    """Handle stored webhook messages (run one or more next to gunicorn with app.inbox=worker)."""
    from bot.inbox_worker import InboxWorker
    from bot.outbound.send_queue import SendQueue
    from bot.platforms.common.webhook import send_ids

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


@inbox_group.command("status")
def status_command() -> None:
    """Show how many stored messages wait, are being handled, were handled or failed."""
    from models.inbound import inbox_summary

    ext = lianxin()
    with ext.sessionmaker() as session:
        summary = inbox_summary(session, ext.now())
    c = summary["counts"]
    click.echo(f"待处理 {c['new']}  处理中 {c['processing']}  已处理 {c['processed']}  失败 {c['failed']}"
               f"  等待下载图片/文件 {c['fetch'] + c['fetching']}")
    waiting = summary["oldest_waiting_seconds"]
    if waiting is not None:
        click.echo(f"最早一条已等待 {waiting:.0f} 秒" + ("（超过 1 分钟：处理进程或定时任务是否在运行？）" if waiting > 60 else ""))
    for record in summary["failed"]:
        click.echo(f"失败 #{record.id} {record.platform} {record.sender_name or record.sender_external_id or '-'} "
                   f"「{record.text[:30]}」 {record.error or ''}")
