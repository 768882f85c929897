"""Operator commands for the outbox: see failures with the platform's code, send again."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from models import outbox

STATUS_NAMES = {"pending": "待发", "sending": "发送中", "sent": "已发", "failed": "失败"}


outbox_group = AppGroup("outbox", help="Inspect and retry outbound messages.")


@outbox_group.command("list")
@click.option("--failed", is_flag=True, help="Only messages that failed permanently.")
@click.option("--limit", default=50, show_default=True)
def list_command(failed: bool, limit: int) -> None:
    """List the newest outbox messages."""
    from app import lianxin

    with lianxin().sessionmaker() as session:
        rows = outbox.list_messages(session, failed_only=failed, limit=limit)
        if not rows:
            click.echo("没有失败的消息。" if failed else "发件箱是空的。")
        for row in rows:
            line = (f"#{row.id} {STATUS_NAMES.get(row.status, row.status)} {row.platform}/{row.channel or '-'} "
                    f"→ {row.address} 尝试{row.attempts}次 「{row.text[:30]}」")
            if row.error_code or row.last_error:
                line += f"\n    错误码 {row.error_code or '-'}：{(row.last_error or '')[:200]}"
            click.echo(line)


@outbox_group.command("retry")
@click.argument("row_id", type=int)
def retry_command(row_id: int) -> None:
    """Queue a failed message again (after fixing its cause)."""
    from app import lianxin

    ext = lianxin()
    with ext.sessionmaker() as session:
        row = outbox.retry(session, row_id, ext.now())
        if row is None:
            raise click.ClickException(f"没有编号为 {row_id} 的失败消息")
        session.commit()
        sent = ext.sender.send_ids(session, [row_id], ext.now())
        session.commit()
        click.echo(f"#{row_id} 已重新发送。" if sent else f"#{row_id} 已放回队列：{row.last_error or '稍后重试'}")
