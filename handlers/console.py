"""「后台」: a staff member asks for a one-time link to the web console."""

from __future__ import annotations

from bot.message import InboundMessage, Reply
from handlers.commands import command
from handlers.context import HEAD_TEACHER, LEADER, TEACHER, Context
from models import console_login


@command("后台", roles=frozenset({TEACHER, HEAD_TEACHER, LEADER}), private=True, aliases=("网页后台", "管理后台"))
def console_link(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """Answer with a signed login link that works once, for ten minutes, for this staff member only."""
    staff = ctx.actor.staff
    assert staff is not None
    url = console_login.create_link(ctx.session, staff, ctx.settings, ctx.now)
    return [Reply(f"网页后台登录链接（{console_login.LINK_MINUTES} 分钟内有效，只能使用一次，仅限您本人，请勿转发）：\n{url}\n"
                  f"登录后 {console_login.SESSION_HOURS} 小时内无需再次登录。", private=True)]
