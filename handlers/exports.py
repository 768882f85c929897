"""Directors ask for a ledger in chat and get a link that expires and works only for them."""

from __future__ import annotations

import datetime as dt

from bot.message import InboundMessage, Reply
from handlers.commands import Command, command
from handlers.context import LEADER, Context
from handlers.exceptions import HandlerError, UsageError
from handlers.notices import parse_local_time
from models import exports


def _range(command: Command, args: list[str], ctx: Context) -> tuple:
    if not args:
        return None, None
    if len(args) != 2:
        raise UsageError(command, "请写起止日期，例如 2026-09-01 2026-12-31。")
    tz = ctx.settings.app.timezone
    start, end = parse_local_time(args[0], "00:00", tz), parse_local_time(args[1], "00:00", tz)
    if start is None or end is None or end < start:
        raise UsageError(command, "日期格式应为 2026-09-01，且结束不早于开始。")
    return start, end + dt.timedelta(days=1)


def _export(kind: str, command_name: str):
    def run(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
        staff = ctx.actor.staff
        assert staff is not None
        survey_id = None
        if kind == "survey":
            if args and not args[0].isdigit():
                raise UsageError(_COMMANDS[command_name], "请写测评编号，例如「导出测评 1」。")
            survey_id, start, end = (int(args[0]) if args else None), None, None
        else:
            start, end = _range(_COMMANDS[command_name], args, ctx)
        try:
            record, url = exports.create_download(ctx.session, staff, kind, ctx.settings, ctx.now, start=start,
                                                  end=end, survey_id=survey_id)
        except exports.ExportError as exc:
            raise HandlerError(str(exc)) from exc
        minutes = ctx.settings.exports.link_ttl_minutes
        return [Reply(f"{exports.KINDS[kind]}已生成，请在 {minutes} 分钟内下载（仅限您本人使用，请勿转发）：\n{url}",
                      private=True)]

    return run


# One command per export kind, declared here in the order 帮助 lists them.
_COMMANDS = {
    name: command(name, roles=frozenset({LEADER}), args=(0, max_args), private=True)(_export(kind, name))
    for name, kind, max_args in (("导出台账", "ledger", 2), ("导出家访", "visits", 2), ("导出关爱", "care", 0),
                                 ("导出测评", "survey", 1), ("导出接待", "reception", 2))
}
