"""绑定班级: a head teacher or leader registers the class group they are in."""

from __future__ import annotations

from bot.message import InboundMessage, Reply
from handlers.commands import command
from handlers.context import HEAD_TEACHER, LEADER, Context
from handlers.exceptions import Forbidden, UsageError
from models import groups


@command("绑定班级", roles=frozenset({HEAD_TEACHER, LEADER}), args=1, rest=True, aliases=("本群班级",))
def link_class_command(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """Map this group conversation to a class."""
    if not msg.is_group:
        raise Forbidden("请在班级群里 @我 发送「绑定班级 班级名称」，例如「绑定班级 一年级一班」。")
    outcome = groups.link_group(
        ctx.session, platform=msg.platform, school_id=msg.school_id, conversation_id=msg.conversation_id,
        class_name=args[0], now=ctx.now, staff=ctx.actor.staff,
    )
    name = outcome.school_class.name if outcome.school_class else args[0]
    if outcome.status == "no_class":
        text = f"没有找到「{args[0]}」，请核对班级名称（与花名册一致，例如「一年级一班」）。"
    elif outcome.status == "not_yours":
        text = f"您不是{name}的班主任，只能绑定自己任班主任的班级；如需帮助请联系学校管理员。"
    elif outcome.status == "taken":
        prev = outcome.previous.name if outcome.previous else "其他班级"
        text = f"本群已绑定为{prev}的班级群，如需更改请联系{prev}班主任或学校领导。"
    elif outcome.status == "unchanged":
        text = f"本群已是{name}的班级群，无需重复绑定。"
    else:
        text = f"已将本群绑定为{name}的班级群。家长在群里 @我 即可留言，学校通知也会发到本群。"
    return [Reply(text, mention_sender=True)]


REMOVE = ("删除", "取消", "清除")


@command("设置群机器人", roles=frozenset({HEAD_TEACHER, LEADER}), args=1)
def robot_key_command(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """Register this class group's own group robot (群机器人) key, or remove it."""
    if not msg.is_group or ctx.group is None:
        raise Forbidden("请先在班级群里 @我 发送「绑定班级 班级名称」，再在同一个群里 @我 发送「设置群机器人 KEY」。")
    key = None if args[0] in REMOVE else groups.parse_robot_key(args[0])
    if key is None and args[0] not in REMOVE:
        raise UsageError(robot_key_command, "请粘贴群机器人的 Webhook 地址或其中 key= 后面的部分。")
    outcome = groups.set_robot_key(ctx.session, ctx.group, key, ctx.actor.staff)
    name = ctx.group.school_class.name if ctx.group.school_class else "本班"
    texts = {
        "no_class": "本群还没有绑定班级，请先 @我 发送「绑定班级 班级名称」。",
        "not_yours": f"只有{name}的班主任或学校领导可以设置本群的群机器人。",
        "removed": "已删除本群的群机器人。机器人的回复地址过期后，群消息会改为私信发给本班每个家庭。",
        "set": "已登记本群的群机器人（只用于本群）。机器人的回复地址过期后，通知和回复会由它发到本群。",
    }
    return [Reply(texts[outcome], mention_sender=True)]
