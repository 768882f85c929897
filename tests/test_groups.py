"""绑定班级: head teachers and leaders register class groups; the groups CLI."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models.identity import ChatGroup
from models.outbox import OutboxMessage
from tests import payloads as p

URL = f"/dingtalk/{p.SCHOOL}/callback"
GROUP = "cidCLASS-NEW=="


@pytest.fixture
def settings_overrides(settings_overrides):
    return {**settings_overrides, "platforms": p.CREDENTIALS}


def say(client, now, text: str, who: str, group: bool = True) -> str:
    """Post a DingTalk message as staff id ``who``; return the bot's latest answer."""
    body = p.dingtalk_body(now, text, group=group, staff_id=who, conversation_id=GROUP if group else None)
    assert client.post(URL, **p.dingtalk_request(body, now)).status_code == 200
    session = client.application.extensions["lianxin"].sessionmaker()
    try:
        return session.scalars(select(OutboxMessage.text).order_by(OutboxMessage.id.desc())).first() or ""
    finally:
        session.close()


def linked(db_session) -> str | None:
    group = db_session.scalar(select(ChatGroup).where(ChatGroup.platform == "dingtalk",
                                                      ChatGroup.conversation_id == GROUP))
    return group.school_class.name if group is not None and group.school_class else None


def bind(client, now, who: str, name: str, last4: str) -> None:
    say(client, now, f" 绑定 {name} {last4}", who, group=False)


def test_head_teacher_links_own_class_group(client, school, db_session, now):
    bind(client, now, "wangfang", "王芳", "0003")
    answer = say(client, now, " 绑定班级 一年级一班", "wangfang")
    assert "已将本群绑定为一年级一班" in answer
    assert linked(db_session) == "一年级一班"
    assert "无需重复" in say(client, now, " 本群班级 一年级一班", "wangfang")


def test_head_teacher_cannot_link_another_class(client, school, db_session, now):
    bind(client, now, "wangfang", "王芳", "0003")
    assert "不是一年级二班的班主任" in say(client, now, " 绑定班级 一年级二班", "wangfang")
    assert linked(db_session) is None


def test_leader_links_any_class_and_moves_a_group(client, school, db_session, now):
    bind(client, now, "sunli", "孙丽", "0004")
    bind(client, now, "zhao", "赵校长", "0001")
    assert "已将本群" in say(client, now, " 绑定班级 一年级二班", "sunli")
    assert "已将本群绑定为一年级一班" in say(client, now, " 绑定班级 一年级一班", "zhao")
    assert linked(db_session) == "一年级一班"
    assert "已绑定为一年级一班" in say(client, now, " 绑定班级 一年级二班", "sunli")  # not hers any more


def test_parents_and_strangers_may_not_link(client, school, db_session, now):
    assert "绑定身份" in say(client, now, " 绑定班级 一年级一班", "stranger")
    bind(client, now, "mom", "张小明", "1234")
    assert "没有使用「绑定班级」的权限" in say(client, now, " 绑定班级 一年级一班", "mom")
    assert linked(db_session) is None


def test_unknown_class_and_private_chat_get_hints(client, school, db_session, now):
    bind(client, now, "zhao", "赵校长", "0001")
    assert "没有找到「三年级九班」" in say(client, now, " 绑定班级 三年级九班", "zhao")
    assert "班级群里" in say(client, now, " 绑定班级 一年级一班", "zhao", group=False)
    assert "用法" in say(client, now, " 绑定班级", "zhao")


def test_cli_links_and_lists_groups(runner, school, db_session):
    result = runner.invoke(args=["groups", "link", "wecom_aibot", "wrkCHAT9", "一年级二班", "--school", "t1"])
    assert result.exit_code == 0, result.output
    assert "一年级二班" in result.output
    listing = runner.invoke(args=["groups", "list", "--school", "t1"])
    assert "wecom_aibot\twrkCHAT9\t一年级二班" in listing.output
    bad = runner.invoke(args=["groups", "link", "dingtalk", "cid1", "九年级", "--school", "t1"])
    assert bad.exit_code != 0 and "没有班级" in bad.output


def robot_key(db_session) -> str | None:
    db_session.expire_all()
    return db_session.scalar(select(ChatGroup.robot_key).where(ChatGroup.conversation_id == GROUP))


def test_head_teacher_registers_the_groups_own_robot_and_removes_it(client, school, db_session, now):
    bind(client, now, "wangfang", "王芳", "0003")
    assert "班级群" in say(client, now, " 设置群机器人 abcdef12-3456", "wangfang")  # no class yet
    say(client, now, " 绑定班级 一年级一班", "wangfang")
    url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
    answer = say(client, now, f" 设置群机器人 {url}", "wangfang")
    assert "已登记本群的群机器人" in answer and "693a91f6" not in answer  # the key is never repeated
    assert robot_key(db_session) == "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
    assert "用法" in say(client, now, " 设置群机器人 这不是地址!", "wangfang")
    assert robot_key(db_session) == "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
    assert "已删除" in say(client, now, " 设置群机器人 删除", "wangfang")
    assert robot_key(db_session) is None


def test_only_the_classs_head_teacher_or_a_leader_sets_its_robot(client, school, db_session, now):
    bind(client, now, "wangfang", "王芳", "0003")
    bind(client, now, "sunli", "孙丽", "0004")
    bind(client, now, "mom", "张小明", "1234")
    say(client, now, " 绑定班级 一年级一班", "wangfang")
    assert "只有一年级一班的班主任" in say(client, now, " 设置群机器人 abcdef12-3456", "sunli")
    assert "没有使用「设置群机器人」的权限" in say(client, now, " 设置群机器人 abcdef12-3456", "mom")
    assert robot_key(db_session) is None
    assert "班级群里" in say(client, now, " 设置群机器人 abcdef12-3456", "wangfang", group=False)
