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
    "resolution", "satisfaction", "close_reason", "reopen_count", "history",
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
    rows = []
    for t in session.scalars(query):
        rows.append({
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
        })
    return rows


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
