"""The safety review tier (疑似紧急) and the learning loop from staff corrections."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from handlers.classifier import classify
from models import review
from models.outbox import OutboxMessage as Outbox
from models.review import correction_rows
from models.tickets import ClassifierCorrection, Ticket
from tests.factories import build_school
from tests.kit import SimBot

# A possible danger the classifier flags for review without rating it urgent.
FLAGGED = "孩子说校车上有人带了打火机在玩"
STAFF = ("王芳", "孙丽", "李强", "周敏", "吴刚", "钱主任", "赵校长")


@pytest.fixture
def bot(ext, db_session, now):
    build_school(db_session, now)
    db_session.commit()
    sim = SimBot(ext, db_session)
    for who in ("张小明妈妈", *STAFF):
        sim.bind(who)
    return sim


def _ticket(db_session) -> Ticket:
    db_session.expire_all()
    return db_session.scalars(select(Ticket).order_by(Ticket.id.desc())).first()


@pytest.fixture
def flagged(bot, db_session):
    c = classify(FLAGGED)
    assert c.review and c.urgency == "normal", "precondition: the example message is flagged, not urgent"
    replies = bot.say("张小明妈妈", FLAGGED)
    return _ticket(db_session), replies


def test_a_flagged_message_reaches_head_teacher_and_on_duty_leader_at_once(bot, db_session, flagged):
    ticket, replies = flagged
    assert ticket.needs_review and ticket.urgency == "normal"
    said = "\n".join(replies)
    assert "已请值班老师立即查看" in said and "110" in said and "120" in said
    for who in ("王芳", "钱主任"):  # head teacher of 一年级一班; no 值班 duty on the roster: the director
        lines = "\n".join(bot.pop(who))
        assert "疑似紧急" in lines and f"确认紧急 {ticket.number}" in lines and f"非紧急 {ticket.number}" in lines
    assert not any("疑似紧急" in r for r in bot.pop("孙丽")), "another class's head teacher is not asked"
    rows = db_session.scalars(select(Outbox).where(Outbox.text.contains("疑似紧急"))).all()
    assert rows and all(r.urgent for r in rows), "quiet hours never hold a review request"


def test_confirm_urgent_makes_it_urgent_and_is_kept_for_learning(bot, db_session, flagged):
    ticket, _ = flagged
    said = "\n".join(bot.say("王芳", f"确认紧急 {ticket.number}"))
    assert "已确认" in said
    ticket = _ticket(db_session)
    assert (ticket.urgency, ticket.needs_review, ticket.reviewed_by.name) == ("urgent", False, "王芳")
    assert ticket.reviewed_at is not None
    correction = db_session.scalars(select(ClassifierCorrection)).one()
    assert (correction.from_urgency, correction.to_urgency, correction.text) == ("review", "urgent", FLAGGED)
    assert any(ticket.number in r and "紧急" in r for r in bot.pop("赵校长")), "the principal is alerted"
    assert any("不在待确认状态" in r for r in bot.say("钱主任", f"非紧急 {ticket.number}")), "answered once"


def test_not_urgent_is_a_correction_too(bot, db_session, flagged):
    ticket, _ = flagged
    assert any("非紧急" in r for r in bot.say("钱主任", f"非紧急 {ticket.number}"))
    ticket = _ticket(db_session)
    assert (ticket.urgency, ticket.needs_review, ticket.reviewed_by.name) == ("normal", False, "钱主任")
    assert correction_rows(db_session) == [
        {"id": correction_rows(db_session)[0]["id"], "text": FLAGGED, "kind": ticket.kind,
         "category": ticket.category, "urgency": "normal"}]


def test_an_unanswered_review_escalates_to_the_principal_after_review_minutes(ext, bot, db_session, flagged, now):
    ticket, _ = flagged
    minutes = ext.settings.tickets.review_minutes
    assert minutes == 15
    assert review.sweep_reviews(db_session, ext.settings, now + dt.timedelta(minutes=minutes - 1)) == {
        "review_escalated": 0}
    later = now + dt.timedelta(minutes=minutes, seconds=1)
    assert review.sweep_reviews(db_session, ext.settings, later) == {"review_escalated": 1}
    db_session.commit()
    assert review.sweep_reviews(db_session, ext.settings, later + dt.timedelta(minutes=5)) == {"review_escalated": 0}
    ticket = _ticket(db_session)
    assert (ticket.urgency, ticket.needs_review) == ("urgent", False)
    rows = db_session.scalars(select(Outbox).where(Outbox.text.contains("超时未确认"))).all()
    assert len(rows) == 1 and rows[0].urgent
    bot.deliver(later)
    assert any("超时未确认" in r for r in bot.pop("赵校长"))


def test_a_reviewer_who_is_the_accused_is_never_asked(bot, db_session, now):
    text = "王芳老师今天把孩子推到墙上，孩子说后背有点疼"
    bot.say("张小明妈妈", text)
    ticket = _ticket(db_session)
    assert ticket.about_staff is not None and ticket.about_staff.name == "王芳"
    assert all(s.name != "王芳" for s in review.reviewers(db_session, ticket))


def test_kind_correction_is_stored_and_changes_the_next_training_run(bot, db_session, flagged):
    pytest.importorskip("sklearn")
    from handlers._train import LEARNED, train_text

    ticket, _ = flagged
    said = "\n".join(bot.say("李强", f"改为 {ticket.number} 咨询"))
    assert "改为「咨询」" in said
    assert any("没有「吐槽」" in r for r in bot.say("李强", f"改为 {ticket.number} 吐槽"))
    bot.say("李强", f"改类 {ticket.number} 安全")
    rows = correction_rows(db_session)
    assert len(rows) == 1 and (rows[0]["kind"], rows[0]["category"]) == ("inquiry", "safety")
    assert _ticket(db_session).kind == "inquiry"
    assert train_text(rows) != LEARNED.read_text(encoding="utf-8"), "a correction changes the weights"


def test_an_addressed_teacher_is_not_the_accused(bot, db_session):
    bot.say("张小明妈妈", "王老师，孩子这几天回家说午饭总是吃不饱，饭菜都凉了，希望学校重视一下")
    ticket = _ticket(db_session)
    assert ticket.category == "food" and ticket.about_staff is None
    assert ticket.assignee.name == "周敏"  # 总务, by the routing rules, not the principal


def test_the_on_duty_holder_reviews_when_the_roster_names_one(ext, db_session, now):
    from models.directory import Staff, StaffDuty

    build_school(db_session, now)
    db_session.flush()
    zhou = db_session.scalars(select(Staff).where(Staff.name == "周敏")).one()
    db_session.add(StaffDuty(staff=zhou, duty=review.ON_DUTY))
    db_session.commit()
    bot = SimBot(ext, db_session)
    for who in ("张小明妈妈", "周敏", "钱主任", "王芳"):
        bot.bind(who)
    bot.say("张小明妈妈", FLAGGED)
    ticket = _ticket(db_session)
    assert [s.name for s in review.reviewers(db_session, ticket)] == ["王芳", "周敏"]
    assert any("疑似紧急" in r for r in bot.pop("周敏"))
    assert not any("疑似紧急" in r for r in bot.pop("钱主任"))


def test_the_service_call_of_the_web_console_alerts_the_leaders_itself(bot, db_session, flagged):
    from models.directory import Staff

    ticket, _ = flagged
    leader = db_session.scalars(select(Staff).where(Staff.name == "钱主任")).one()
    notices = review.confirm_urgent(db_session, ticket, leader)
    db_session.commit()
    assert ticket.urgency == "urgent" and notices
    queued = db_session.scalars(select(Outbox).where(Outbox.text.contains("【紧急工单】"))).all()
    assert len(queued) == len(notices) and all(r.urgent for r in queued)
    with pytest.raises(review.ReviewError):
        review.dismiss_review(db_session, ticket, leader)
