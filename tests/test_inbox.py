"""The webhook inbox: a stored message is handled once, even when the worker dies after answering."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import select, text

from handlers.pipeline import process_next
from models.inbound import InboundRecord, claim_next
from models.outbox import OutboxMessage
from models.tickets import Ticket
from scheduler.jobs import process_inbox
from tests import payloads as p
from tests import test_dingtalk
from tests.fakes.fixtures import fake_dingtalk  # noqa: F401 - fixture

URL = f"/dingtalk/{p.SCHOOL}/callback"
# The DingTalk tests' school and credentials (pointed at the fake DingTalk server).
settings_overrides = test_dingtalk.settings_overrides
school = test_dingtalk.school


def answered_but_not_handled(client, body, now):
    """Post a callback and drop the response unclosed: the worker died right after answering."""
    resp = client.post(URL, buffered=False, **p.dingtalk_request(body, now))
    assert resp.status_code == 200
    return resp


def records(db_session) -> list[InboundRecord]:
    db_session.expire_all()
    return list(db_session.scalars(select(InboundRecord).order_by(InboundRecord.id)))


def test_a_message_left_unhandled_is_handled_by_the_sweep_with_its_reply_handle(client, school, db_session, ext,
                                                                                now, fake_dingtalk):  # noqa: F811
    client.post(URL, **p.dingtalk_request(p.dingtalk_body(now, " 绑定 张小明 1234", staff_id="mom-01", nick="李娟"), now))
    hook = fake_dingtalk.webhook_url("cidDM-mom-01")
    body = p.dingtalk_body(now, " 食堂的饭菜总是凉的，孩子中午都吃不饱", staff_id="mom-01", nick="李娟",
                           sessionWebhook=hook)
    answered_but_not_handled(client, body, now)
    [_, record] = records(db_session)
    assert record.status == "new" and record.envelope["reply_context"]["session_webhook"] == hook
    assert db_session.scalars(select(Ticket)).all() == []

    assert process_inbox(ext, now + dt.timedelta(seconds=10)).results == {"process_inbox": 0}, "a live worker's turn"
    assert process_inbox(ext, now + dt.timedelta(minutes=1)).results == {"process_inbox": 1}
    [_, record] = records(db_session)
    assert record.status == "processed" and "reply_context" not in (record.envelope or {})
    [ticket] = db_session.scalars(select(Ticket)).all()
    assert ticket.category == "food"
    reply = db_session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    assert reply.context["session_webhook"] == hook and reply.address == "mom-01"

    # A redelivery of the same msgId (DingTalk retries after ~60 s) stores and handles nothing twice.
    assert client.post(URL, **p.dingtalk_request(body, now)).status_code == 200
    assert process_inbox(ext, now + dt.timedelta(minutes=2)).results == {"process_inbox": 0}
    assert len(records(db_session)) == 2 and len(db_session.scalars(select(Ticket)).all()) == 1


def test_a_message_is_handled_once_when_the_inbox_thread_and_the_sweep_race(client, school, db_session, ext, now):
    answered_but_not_handled(client, p.dingtalk_body(now, " 你好"), now)
    later = now + dt.timedelta(minutes=1)

    def drain():
        return process_next(session=db_session, settings=ext.settings, registry=ext.registry, now=now,
                            received_before=later)

    first = drain()
    assert first is not None and first.outbox_ids
    assert drain() is None, "the second drainer finds nothing to claim"
    db_session.commit()
    assert drain() is None and len(db_session.scalars(select(OutboxMessage)).all()) == 1


def test_a_claim_rolled_back_leaves_the_message_for_the_next_sweep(client, school, db_session, ext, now):
    answered_but_not_handled(client, p.dingtalk_body(now, " 你好"), now)
    with db_session.begin_nested() as crashed:
        assert claim_next(db_session, now + dt.timedelta(minutes=1)) is not None
        crashed.rollback()  # the process died before its commit
    assert records(db_session)[0].status == "new"
    assert process_inbox(ext, now + dt.timedelta(minutes=1)).results == {"process_inbox": 1}


class _Collect:
    """Stands in for the worker's send thread (the tests' sessions share one connection)."""

    def __init__(self) -> None:
        self.ids: list[int] = []

    def offer(self, ids: list[int]) -> bool:
        self.ids.extend(ids)
        return True


def test_with_an_inbox_worker_the_web_process_only_stores_and_the_worker_handles(
        client, school, db_session, ext, now, monkeypatch, fake_dingtalk):  # noqa: F811
    from bot.inbox_worker import InboxWorker
    from bot.platforms.common.webhook import send_ids

    monkeypatch.setattr(ext, "settings", dataclasses.replace(
        ext.settings, app=dataclasses.replace(ext.settings.app, inbox="worker")))
    hook = fake_dingtalk.webhook_url("cidDM-staff-001")
    body = p.dingtalk_body(now, " 你好", sessionWebhook=hook)
    assert client.post(URL, **p.dingtalk_request(body, now)).status_code == 200  # response read and closed
    [record] = records(db_session)
    assert record.status == "new" and db_session.scalars(select(OutboxMessage)).all() == []

    sends = _Collect()
    worker = InboxWorker(ext, sends.offer)
    assert worker.run_once() == 1
    assert worker.run_once() == 0, "nothing is handled twice"
    [record] = records(db_session)
    [row] = db_session.scalars(select(OutboxMessage)).all()
    assert record.status == "processed" and sends.ids == [row.id]
    assert send_ids(ext, sends.ids) == 1
    [call] = fake_dingtalk.sent("/session/cidDM-staff-001")  # through the stored reply handle
    assert "绑定" in call.json["text"]["content"]


def test_the_inbox_setting_is_validated():
    from config.exceptions import SettingsError
    from config.settings import load_settings

    assert load_settings({"app": {"inbox": "worker"}}, environ={}).app.inbox == "worker"
    with pytest.raises(SettingsError, match="app.inbox"):
        load_settings({"app": {"inbox": "celery"}}, environ={})


def test_two_drainers_on_postgresql_take_different_messages_without_waiting():
    """claim_next skips a message another transaction holds (FOR UPDATE SKIP LOCKED), it does not block."""
    from sqlalchemy.orm import Session

    from models.base import Base
    from models.inbound import NEW, claim_next, record_inbound
    from tests.conftest import pg_schema_engine

    with pg_schema_engine("lx_inbox") as engine:
        Base.metadata.create_all(engine)
        at = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)
        with Session(engine) as s:
            for i in range(2):
                record_inbound(s, platform="dingtalk", platform_msg_id=f"m{i}", msgtype="text", text=f"消息{i}",
                               received_at=at + dt.timedelta(seconds=i), status=NEW)
            s.commit()
        later = at + dt.timedelta(minutes=1)
        with Session(engine) as a, Session(engine) as b:
            b.execute(text("SET lock_timeout = '2s'"))  # blocking would fail the test, not hang it
            first = claim_next(a, later)  # held, uncommitted
            second = claim_next(b, later)
            assert (first.platform_msg_id, second.platform_msg_id) == ("m0", "m1")
            assert claim_next(b, later) is None
            a.rollback()  # a crashed: its message is free again
            b.commit()
        with Session(engine) as c:
            assert claim_next(c, later).platform_msg_id == "m0"


def test_operators_see_what_waits_in_the_inbox_and_what_failed(client, runner, school, db_session, ext, now,
                                                                monkeypatch):
    answered_but_not_handled(client, p.dingtalk_body(now, " 你好"), now)
    answered_but_not_handled(client, p.dingtalk_body(now, " 帮助"), now)
    [first, second] = records(db_session)
    second.status, second.error = "failed", "OperationalError: server closed the connection"
    db_session.commit()
    monkeypatch.setattr(ext, "now", lambda: now + dt.timedelta(minutes=5))
    out = runner.invoke(args=["inbox", "status"]).output
    assert "待处理 1" in out and "失败 1" in out
    assert "已等待 300 秒" in out and "定时任务是否在运行" in out
    assert f"失败 #{second.id}" in out and "server closed the connection" in out
