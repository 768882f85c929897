"""The ledger (问题整改台账) for operators: ``flask --app app tickets list --school CODE``."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import click
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.extension import lianxin
from models import media
from models.directory import find_school
from models.labels import (
    category_name,
    close_reason_name,
    event_name,
    kind_name,
    satisfaction_name,
    state_name,
    urgency_name,
)
from models.sheet_safety import csv_value
from models.tickets import Ticket, TicketState

CSV_COLUMNS = (
    "number", "state", "state_name", "kind", "kind_name", "category", "category_name", "original_category", "urgency",
    "urgency_name", "student", "class",
    "assignee", "text", "created_at", "respond_by", "resolve_by", "responded_at", "resolved_at", "closed_at",
    "resolution", "satisfaction", "close_reason", "reopen_count", "history", "attachment_count",
)


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def ledger_rows(session: Session, school_code: str, state: str | None = None) -> list[dict[str, Any]]:
    """Return every ticket of a school with its current state and full history, oldest first."""
    school = find_school(session, school_code)
    if school is None:
        raise click.ClickException(f"没有编码为 {school_code} 的学校")
    query = select(Ticket).where(Ticket.school_id == school.id).order_by(Ticket.id)
    if state:
        query = query.where(Ticket.state == state)
    return [ticket_row(session, t) for t in session.scalars(query)]


def ticket_row(session: Session, t: Ticket) -> dict[str, Any]:
    """Return one ticket with its history and attachments (name, type, bytes, sha256), as the ledger shows it."""
    files = media.of_ticket(session, t.id)
    return {
            "number": t.full_number, "short_number": t.number, "state": t.state, "state_name": state_name(t.state),
            "kind": t.kind, "kind_name": kind_name(t.kind), "category": t.category,
            "category_name": category_name(t.category), "original_category": t.original_category,
            "urgency": t.urgency, "urgency_name": urgency_name(t.urgency), "student": t.student.name if t.student else None,
            "class": t.school_class.name if t.school_class else None,
            "assignee": t.assignee.name if t.assignee else None, "text": t.text,
            "created_at": _iso(t.created_at), "respond_by": _iso(t.respond_by), "resolve_by": _iso(t.resolve_by),
            "responded_at": _iso(t.responded_at), "resolved_at": _iso(t.resolved_at),
            "closed_at": _iso(t.closed_at), "resolution": t.resolution,
            "satisfaction": satisfaction_name(t.satisfaction) if t.satisfaction else None,
            "close_reason": close_reason_name(t.close_reason) if t.close_reason else None,
            "reopen_count": t.reopen_count,
            "history": [{"at": _iso(e.at), "action": e.action, "action_name": event_name(e.action),
                         "actor": e.actor_staff.name if e.actor_staff else ("家长" if e.actor_identity_id else "系统"),
                         "text": e.text, "data": e.data} for e in t.events],
            "attachment_count": len(files),
            "attachments": [{"index": i, "name": f.name, "kind": f.kind, "type": f.mime, "bytes": f.size,
                             "sha256": f.sha256, "sent_at": _iso(f.created_at), "purged": f.purged_at is not None}
                            for i, f in enumerate(files, 1)],
        }


def _csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        history = "；".join(f"{h['at']} {h['actor']} {h['action_name']}{'：' + h['text'] if h['text'] else ''}"
                           for h in row["history"])
        writer.writerow({key: csv_value(value) for key, value in {**row, "history": history}.items()})
    return out.getvalue()


@click.group("tickets")
def tickets_group() -> None:
    """The ticket ledger (问题整改台账)."""


@tickets_group.command("list")
@click.option("--school", "school_code", required=True, help="school code")
@click.option("--state", default=None, type=click.Choice(sorted(s.value for s in TicketState)), help="only this state")
@click.option("--json", "as_json", is_flag=True, help="JSON: current state and full history")
@click.option("--csv", "as_csv", is_flag=True, help="CSV (UTF-8 with BOM, opens in Excel)")
@with_appcontext
def list_command(school_code: str, state: str | None, as_json: bool, as_csv: bool) -> None:
    """List a school's tickets with their current state and history."""
    with lianxin().sessionmaker() as session:
        rows = ledger_rows(session, school_code, state)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    elif as_csv:
        click.echo("\ufeff" + _csv(rows), nl=False)
    else:
        for row in rows:
            click.echo(f"{row['number']}  {row['state_name']:<6}  {row['category_name']:<8} {row['assignee'] or '—':<6} "
                       f"{row['student'] or '—'}  {row['text'][:30]}")
        click.echo(f"共 {len(rows)} 条")


def _find(session: Session, school_code: str, number: str) -> Ticket:
    from models.tickets import find_ticket

    school = find_school(session, school_code)
    if school is None:
        raise click.ClickException(f"没有编码为 {school_code} 的学校")
    ticket = find_ticket(session, school.id, number)
    if ticket is None:
        raise click.ClickException(f"{school_code} 没有编号为 {number} 的工单")
    return ticket


@tickets_group.command("show")
@click.argument("number")
@click.option("--school", "school_code", required=True, help="school code")
@click.option("--json", "as_json", is_flag=True, help="JSON: the ticket, its history and attachments")
@with_appcontext
def show_command(number: str, school_code: str, as_json: bool) -> None:
    """Show one ticket with its history and attachments."""
    with lianxin().sessionmaker() as session:
        row = ticket_row(session, _find(session, school_code, number))
    if as_json:
        click.echo(json.dumps(row, ensure_ascii=False, indent=2))
        return
    click.echo(f"{row['number']}  {row['state_name']}  {row['category_name']}  {row['assignee'] or '—'}\n{row['text']}")
    for h in row["history"]:
        click.echo(f"  {h['at']} {h['actor']} {h['action_name']}{'：' + h['text'] if h['text'] else ''}")
    for a in row["attachments"]:
        click.echo(f"  附件{a['index']} {a['name']} {a['type']} {a['bytes']} 字节 sha256={a['sha256']}")


@tickets_group.command("attachment")
@click.argument("number")
@click.argument("index", type=int)
@click.option("--school", "school_code", required=True, help="school code")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False), help="file to write")
@with_appcontext
def attachment_command(number: str, index: int, school_code: str, output: str) -> None:
    """Write the stored bytes of a ticket's attachment INDEX (1 = the first) to a file."""
    ext = lianxin()
    with ext.sessionmaker() as session:
        files = media.of_ticket(session, _find(session, school_code, number).id)
        if not 1 <= index <= len(files):
            raise click.ClickException(f"工单 {number} 有 {len(files)} 个附件，没有第 {index} 个")
        data = media.read(session, ext.settings, files[index - 1])
    if data is None:
        raise click.ClickException("这个附件已按保留期限清除")
    with open(output, "wb") as handle:
        handle.write(data)
    click.echo(f"已写入 {output}（{len(data)} 字节）")
