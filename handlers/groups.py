"""绑定班级: a head teacher or leader registers the class group they are in."""

from __future__ import annotations

from bot.message import InboundMessage, Reply
from handlers.commands import Command
from handlers.context import HEAD_TEACHER, LEADER, Context
from handlers.exceptions import Forbidden
from handlers.registry import Registry
from models import groups


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


def register(registry: Registry) -> None:
    """Add the 绑定班级 command."""
    registry.add_command(Command(
        "绑定班级", link_class_command, roles=frozenset({HEAD_TEACHER, LEADER}),
        min_args=1, max_args=1, rest=True, aliases=("本群班级",),
    ))
