"""The outbox policy: splitting, crash recovery, no double sends, quiet-hours hook, admin CLI."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.message import Recipient
from bot.outbound.limits import split_utf8
from bot.outbound.sender import Sender
from models import outbox
from models.directory import School
from models.outbox import OutboxMessage
from tests.fakes.fixtures import make_school


@given(st.text(), st.integers(min_value=4, max_value=300))
def test_split_utf8_chunks_fit_decode_and_join_back(text: str, limit: int) -> None:
    chunks = split_utf8(text, limit)
    assert "".join(chunks) == text
    assert all(len(c.encode("utf-8")) <= limit for c in chunks)
    assert all(c.encode("utf-8").decode("utf-8") == c for c in chunks)
    assert all(chunks) or chunks == [""]


def test_split_prefers_line_ends() -> None:
    text = "第一段" * 100 + "\n" + "第二段" * 100
    assert split_utf8(text, 1000)[0] == "第一段" * 100 + "\n"


def row(session: Session, now: dt.datetime, text: str = "您好", **kw: object) -> OutboxMessage:
    school = session.scalar(select(School)) or make_school(session)
    msg = outbox.enqueue(session, Recipient("simulator", "user", "sim-p1", school.id), text, now=now, **kw)
    assert msg is not None
    session.commit()
    return msg


def test_crash_between_claim_and_send_is_recovered(ext, db_session, now):
    msg = row(db_session, now)
    msg.status, msg.claimed_at = "sending", now  # a sender claimed it, then the process died
    db_session.commit()
    assert ext.sender.drain(db_session, now + dt.timedelta(minutes=5)) == 0  # maybe still in flight
    assert ext.sender.drain(db_session, now + dt.timedelta(minutes=11)) == 1
    assert db_session.get(OutboxMessage, msg.id).status == "sent"


def test_hold_hook_postpones_without_counting_an_attempt(ext, db_session, now):
    morning = now + dt.timedelta(hours=12)
    sender = Sender(ext.sender.channels, hold=lambda r, t: None if r.urgent else morning)
    calm, urgent = row(db_session, now, "明早再说"), row(db_session, now, "紧急", urgent=True)
    assert sender.send_ids(db_session, [calm.id, urgent.id], now) == 1
    calm = db_session.get(OutboxMessage, calm.id)
    assert (calm.status, calm.attempts, calm.next_attempt_at) == ("pending", 0, morning)


def test_unknown_platform_fails_visibly(ext, db_session, now):
    msg = outbox.enqueue(db_session, Recipient("fax", "user", "1"), "x", now=now)
    db_session.commit()
    ext.sender.send_ids(db_session, [msg.id], now)
    assert (msg.status, msg.error_code) == ("failed", "no_channel")


def test_cli_lists_failures_with_code_and_retries(ext, runner, db_session, now):
    school = make_school(db_session)
    msg = outbox.enqueue(db_session, Recipient("fax", "user", "1", school.id), "无法送达的消息", now=now)
    db_session.commit()
    ext.sender.send_ids(db_session, [msg.id], now)
    out = runner.invoke(args=["outbox", "list", "--failed"]).output
    assert f"#{msg.id} 失败" in out and "错误码 no_channel" in out
    ext.sender.channels["fax"] = ext.sender.channels["simulator"]
    out = runner.invoke(args=["outbox", "retry", str(msg.id)]).output
    assert "已重新发送" in out
    assert runner.invoke(args=["outbox", "retry", "999999"]).exit_code != 0


class CountingChannel:
    """Records every delivery (thread-safe), to prove no row is sent twice."""

    def __init__(self) -> None:
        self.sent: list[int] = []
        self.lock = threading.Lock()

    def send(self, session: Session, msg: OutboxMessage, now: dt.datetime) -> str:
        with self.lock:
            self.sent.append(msg.id)
        return "counting"


@pytest.fixture
def committed(db_engine):
    """Real commits on separate connections (two processes); cleaned up afterwards."""
    made: list[int] = []
    yield made
    with Session(db_engine, expire_on_commit=False) as session:
        session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(made)))
        session.commit()


def test_two_senders_draining_at_once_send_each_row_once(db_engine, committed, now):
    with Session(db_engine, expire_on_commit=False) as session:
        for i in range(30):
            msg = outbox.enqueue(session, Recipient("counting", "user", f"race-{i}"), f"m{i}", now=now)
            session.flush()
            committed.append(msg.id)
        session.commit()
    channel = CountingChannel()
    errors: list[BaseException] = []

    def drain() -> None:
        try:
            with Session(db_engine, expire_on_commit=False) as session:
                Sender({"counting": channel}).send_ids(session, list(committed), now)
                session.commit()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=drain) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert sorted(channel.sent) == sorted(committed)
    with Session(db_engine, expire_on_commit=False) as session:
        statuses = set(session.scalars(select(OutboxMessage.status).where(OutboxMessage.id.in_(committed))))
    assert statuses == {"sent"}


class BrokenChannel:
    """A channel with a bug."""

    def send(self, session: Session, msg: OutboxMessage, now: dt.datetime) -> str:
        raise RuntimeError("boom")


def test_a_channel_crash_is_retried_not_fatal(ext, db_session, now):
    ext.sender.channels["broken"] = BrokenChannel()
    school = make_school(db_session)
    first = outbox.enqueue(db_session, Recipient("broken", "user", "x", school.id), "x", now=now)
    second = row(db_session, now, "之后的消息照常发送")
    assert ext.sender.send_ids(db_session, [first.id, second.id], now) == 1
    first = db_session.get(OutboxMessage, first.id, populate_existing=True)
    assert (first.status, first.error_code, first.attempts) == ("pending", "internal", 1)


def test_drain_job_returns_rows_a_killed_sender_left_in_sending(ext, db_session, now):
    from scheduler import jobs

    msg = row(db_session, now, "回访：请问您对处理结果满意吗？")
    msg.status, msg.claimed_at = "sending", now  # kill -9 of the web worker mid-send
    db_session.commit()
    jobs.drain_outbox(ext, now + dt.timedelta(minutes=5))
    assert db_session.get(OutboxMessage, msg.id, populate_existing=True).status == "sending"  # maybe in flight
    report = jobs.drain_outbox(ext, now + dt.timedelta(minutes=11))
    assert report.ran and report.results["drain_outbox"] == 1
    assert db_session.get(OutboxMessage, msg.id, populate_existing=True).status == "sent"


def test_cli_lists_stuck_rows(ext, runner, db_session, now):
    stuck, fresh = row(db_session, now - dt.timedelta(minutes=30), "卡住的消息"), row(db_session, now, "刚认领")
    stuck.status, stuck.claimed_at = "sending", now - dt.timedelta(minutes=30)
    fresh.status, fresh.claimed_at = "sending", now
    db_session.commit()
    out = runner.invoke(args=["outbox", "list", "--stuck"]).output
    assert f"#{stuck.id} 卡住" in out and f"#{fresh.id}" not in out
    assert f"#{stuck.id} 卡住" in runner.invoke(args=["outbox", "list"]).output
