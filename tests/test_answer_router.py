"""One router in the ANSWERS group hands a short answer to the feature whose question is open."""

from __future__ import annotations

import datetime as dt

from bot.message import InboundMessage, Reply
from handlers.pipeline import dispatch
from handlers.registry import Registry
from models import conversation, people
from tests.factories import build_school


def _registry(calls: list[str]) -> Registry:
    registry = Registry()

    def answer(name: str):
        def check(msg, ctx):
            calls.append(name)
            return msg.text == "1"
        return check

    registry.add_answer({"first"}, answer("first"), lambda m, c: [Reply("first took it")], "first")
    registry.add_answer({"second"}, answer("second"), lambda m, c: [Reply("second took it")], "second")
    registry.add_answer((), answer("standing"), lambda m, c: [Reply("standing took it")], "standing")
    return registry


def _say(ext, db_session, now, registry, text: str, n: int):
    """Dispatch a parent's private message; return the reply texts (a router is consulted by check and handle)."""
    msg = InboundMessage("simulator", _school_id(db_session), f"m-{n}", "p-1", False, "p-1", text, now)
    return [r.text for r in dispatch(msg, session=db_session, settings=ext.settings, registry=registry,
                                     now=now).replies]


def _school_id(db_session) -> int:
    from models.directory import School

    return db_session.query(School).first().id


def test_only_the_feature_whose_question_is_open_is_asked(ext, db_session, now) -> None:
    school = build_school(db_session, now)
    identity = people.touch_identity(db_session, "simulator", school.school.id, "p-1", "家长", now)
    calls: list[str] = []
    registry = _registry(calls)
    assert _say(ext, db_session, now, registry, "1", 1) == ["standing took it"], "no question: only standing"
    assert list(dict.fromkeys(calls)) == ["standing"]
    conversation.ask(db_session, identity.id, "second", {}, now=now, ttl=dt.timedelta(hours=1))
    calls.clear()
    assert _say(ext, db_session, now, registry, "1", 2) == ["second took it"]
    assert list(dict.fromkeys(calls)) == ["second"], "the feature with no open question is not consulted"
    calls.clear()
    assert _say(ext, db_session, now, registry, "2", 3) == []
    assert list(dict.fromkeys(calls)) == ["second", "standing"], "a message that answers nothing falls through"


def test_an_expired_question_routes_nowhere(ext, db_session, now) -> None:
    school = build_school(db_session, now)
    identity = people.touch_identity(db_session, "simulator", school.school.id, "p-1", "家长", now)
    calls: list[str] = []
    registry = _registry(calls)
    conversation.ask(db_session, identity.id, "first", {}, now=now - dt.timedelta(hours=2),
                     ttl=dt.timedelta(hours=1))
    _say(ext, db_session, now, registry, "2", 1)
    assert list(dict.fromkeys(calls)) == ["standing"]
