"""Pytest fixtures serving the fakes; import them into a test module to use them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.dingtalk import FakeDingTalk
from tests.fakes.server import serving
from tests.fakes.wechat import FakeOfficialAccount, FakeWeCom

SCHOOL = "fake-school"


@pytest.fixture
def fake_wecom() -> Iterator[FakeWeCom]:
    """A fake qyapi.weixin.qq.com on 127.0.0.1."""
    with serving(FakeWeCom()) as fake:
        yield fake


@pytest.fixture
def fake_oa() -> Iterator[FakeOfficialAccount]:
    """A fake api.weixin.qq.com on 127.0.0.1."""
    with serving(FakeOfficialAccount()) as fake:
        yield fake


@pytest.fixture
def fake_dingtalk() -> Iterator[FakeDingTalk]:
    """A fake api.dingtalk.com on 127.0.0.1."""
    with serving(FakeDingTalk()) as fake:
        yield fake


def platform_settings(wecom: str, oa: str, dingtalk: str, *, school_notice: bool = False,
                      template_id: str = "TPL1", wecom_aibot: bool = False, template_kind: str = "template") -> dict:
    """Return settings overrides pointing every platform at the fakes, with test credentials."""
    aibot = {"wecom_aibot": {"token": "t", "aes_key": "b" * 43}} if wecom_aibot else {}
    return {
        "platform_api": {"wecom_api": f"{wecom}/cgi-bin/", "wechat_api": f"{oa}/cgi-bin/",
                         "dingtalk_api": dingtalk, "dingtalk_oapi": dingtalk,
                         "dingtalk_webhook_prefixes": [f"{dingtalk}/session/"],
                         "timeout_seconds": 1.5},
        "platforms": {SCHOOL: {
            "dingtalk": {"app_key": "dingkey", "app_secret": "dingsecret", "agent_id": "2001"},
            "wecom": {"corp_id": "wwcorp", "agent_id": "1000002", "token": "t", "secret": "appsecret",
                      "aes_key": "a" * 43, "school_notice": school_notice},
            "wecom_kf": {"secret": "kfsecret", "open_kfids": ["wkKF1"]},
            "wechat": {"app_id": "wxapp", "secret": "oasecret", "token": "t", "template_id": template_id,
                       "template_kind": template_kind,
                       "template_fields": "thing1:title,thing2:summary,time3:time" if template_id else ""},
            **aibot,
        }},
    }


def make_group(session, school, conversation_id: str, robot_key: str | None = None, class_name: str = "一年级一班",
               platform: str = "wecom_aibot"):
    """Register a class group (with its own group robot key, if given) in a new class of ``school``."""
    from models.directory import SchoolClass
    from models.identity import ChatGroup

    school_class = SchoolClass(school=school, grade="一年级", name=class_name)
    group = ChatGroup(platform=platform, school_id=school.id, conversation_id=conversation_id,
                      school_class=school_class, robot_key=robot_key)
    session.add_all([school_class, group])
    session.flush()
    return group


def make_school(session, code: str = SCHOOL):
    """Return the test school whose code keys the fake credentials."""
    from models.directory import School

    school = School(code=code, name=f"{code} 学校")
    session.add(school)
    session.flush()
    return school


def queue(session, now, platform: str, address: str, text: str = "您好", *, kind: str = "user",
          school_id: int | None = None, context: dict | None = None, identity_id: int | None = None,
          **kwargs: object) -> int:
    """Add an outbox row and commit it, as a webhook route would; return its id."""
    from bot.message import Recipient
    from models.outbox import enqueue

    row = enqueue(session, Recipient(platform, kind, address, school_id, identity_id, context=context or {}), text,
                  now=now, **kwargs)
    assert row is not None
    session.commit()
    return row.id
