"""The pipeline labels each outbound message by who receives it (quiet hours depend on it)."""

from __future__ import annotations

from bot.message import InboundMessage, Reply
from handlers.pipeline import dispatch
from handlers.registry import FuncHandler, Registry
from models import people
from models.outbox import OutboxMessage
from tests.factories import build_school


def test_audience_follows_the_recipient(ext, db_session, now) -> None:
    school = build_school(db_session, now)
    teacher = people.touch_identity(db_session, "simulator", school.school.id, "t-1", "王芳", now)
    teacher.staff_id = school.staff["王芳"].id
    parent = people.touch_identity(db_session, "simulator", school.school.id, "p-1", "张小明妈妈", now)
    parent_recipient = people._user(parent)
    registry = Registry()
    registry.add(FuncHandler(lambda m, c: True, lambda m, c: [
        Reply("已收到"),                                # back to the teacher
        Reply("王老师回复：明天带回", to=parent_recipient),  # relayed to a parent
    ]))
    msg = InboundMessage("simulator", school.school.id, "m-1", "t-1", False, "t-1", "回复 1 明天带回", now)
    result = dispatch(msg, session=db_session, settings=ext.settings, registry=registry, now=now)
    rows = [db_session.get(OutboxMessage, i) for i in result.outbox_ids]
    assert [(r.address, r.audience) for r in rows] == [("t-1", "staff"), ("p-1", "parent")]


def test_a_failing_handler_keeps_the_message_and_answers_politely(ext, db_session, now) -> None:
    school = build_school(db_session, now)

    def boom(msg, ctx):
        raise RuntimeError("bug")

    registry = Registry()
    registry.add(FuncHandler(lambda m, c: True, boom))
    msg = InboundMessage("simulator", school.school.id, "m-2", "p-2", False, "p-2", "你好", now)
    result = dispatch(msg, session=db_session, settings=ext.settings, registry=registry, now=now)
    assert "已记录" in result.replies[0].text
    from models.inbound import InboundRecord

    record = db_session.get(InboundRecord, result.inbound_id)
    assert record.status == "failed" and "RuntimeError" in record.error
