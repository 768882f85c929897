"""Operator commands for the outbox: see failures with the platform's code, send again."""

from __future__ import annotations

import datetime as dt

import click
from flask.cli import AppGroup

from bot.extension import lianxin
from models import outbox

STATUS_NAMES = {"pending": "待发", "sending": "发送中", "sent": "已发", "failed": "失败"}


outbox_group = AppGroup("outbox", help="Inspect and retry outbound messages.")


@outbox_group.command("list")
@click.option("--failed", is_flag=True, help="Only messages that failed permanently.")
@click.option("--stuck", is_flag=True, help="Only messages left in sending by a crashed sender.")
@click.option("--limit", default=50, show_default=True)
def list_command(failed: bool, stuck: bool, limit: int) -> None:
    """List the newest outbox messages; rows a crashed sender left in sending are marked 卡住."""
    ext = lianxin()
    now, after = ext.now(), dt.timedelta(minutes=ext.settings.outbox.stuck_minutes)
    with ext.sessionmaker() as session:
        rows = outbox.list_messages(session, failed_only=failed, stuck_before=now - after if stuck else None,
                                    limit=limit)
        if not rows:
            click.echo("没有失败的消息。" if failed else "没有卡住的消息。" if stuck else "发件箱是空的。")
        for row in rows:
            status = "卡住" if outbox.is_stuck(row, now, after) else STATUS_NAMES.get(row.status, row.status)
            line = (f"#{row.id} {status} {row.platform}/{row.channel or '-'} "
                    f"→ {row.address} 尝试{row.attempts}次 「{row.text[:30]}」")
            if row.error_code or row.last_error:
                line += f"\n    错误码 {row.error_code or '-'}：{(row.last_error or '')[:200]}"
            click.echo(line)
        if any(outbox.is_stuck(row, now, after) for row in rows):
            click.echo(f"卡住：发送进程在发送中途退出；下一次 drain_outbox 会把认领超过 {ext.settings.outbox.stuck_minutes} 分钟的消息放回队列。")


@outbox_group.command("retry")
@click.argument("row_id", type=int)
def retry_command(row_id: int) -> None:
    """Queue a failed message again (after fixing its cause)."""
    ext = lianxin()
    with ext.sessionmaker() as session:
        row = outbox.retry(session, row_id, ext.now())
        if row is None:
            raise click.ClickException(f"没有编号为 {row_id} 的失败消息")
        session.commit()
        sent = ext.sender.send_ids(session, [row_id], ext.now())
        session.commit()
        click.echo(f"#{row_id} 已重新发送。" if sent else f"#{row_id} 已放回队列：{row.last_error or '稍后重试'}")
