"""Ordered handler groups: within a group the first match wins."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from bot.message import InboundMessage, Reply
from handlers.commands import Command, CommandTable, split_args
from handlers.context import Context
from handlers.exceptions import HandlerError

log = logging.getLogger(__name__)

# The handler groups, in the order a message meets them (lower first; within a group the first match wins).
EVENTS = -10  # enter-chat events and messages that are not text
COMMANDS = 0  # chat commands (帮助, 进度, 办结 …)
ANSWERS = 10  # answers to a question the bot asked (which child, 回访, notice preview, survey, acknowledgements)
LEAVE = 40  # leave notes (请假 → head teacher)
PARENT_MESSAGES = 50  # a parent's message, classified: praise, FAQ or a ticket
STAFF_TEXT = 90  # staff text that no command took (a hint)
STRANGERS = 100  # people not yet bound


class Handler(Protocol):
    """Something the bot may do with a message."""

    def check(self, msg: InboundMessage, ctx: Context) -> bool:
        """Return whether this handler takes the message."""

    def handle(self, msg: InboundMessage, ctx: Context) -> list[Reply]:
        """Act on the message and return what to say."""


class FuncHandler:
    """A handler made of two functions (a predicate and a callback)."""

    __slots__ = ("_check", "_handle", "name")

    def __init__(
        self,
        check: Callable[[InboundMessage, Context], bool],
        handle: Callable[[InboundMessage, Context], list[Reply]],
        name: str = "",
    ) -> None:
        self._check, self._handle, self.name = check, handle, name or handle.__name__

    def check(self, msg: InboundMessage, ctx: Context) -> bool:
        """Return the predicate's verdict."""
        return self._check(msg, ctx)

    def handle(self, msg: InboundMessage, ctx: Context) -> list[Reply]:
        """Run the callback."""
        return self._handle(msg, ctx)


class CommandHandler:
    """Runs chat commands, checking roles and arguments before the command."""

    def __init__(self, table: CommandTable) -> None:
        self.table = table

    def check(self, msg: InboundMessage, ctx: Context) -> bool:
        """Take text messages that start with a known command word."""
        return msg.msgtype == "text" and self.table.match(msg.text) is not None

    def handle(self, msg: InboundMessage, ctx: Context) -> list[Reply]:
        """Check access, parse arguments and run the command."""
        matched = self.table.match(msg.text)
        assert matched is not None
        command, rest = matched
        try:
            self._check_access(command, msg, ctx)
            args = split_args(command, rest)
            return command.func(args, msg, ctx)
        except HandlerError as exc:
            private = msg.is_group and command.private_only
            return [Reply(exc.message, private=private, mention_sender=msg.is_group and not private)]

    @staticmethod
    def _check_access(command: Command, msg: InboundMessage, ctx: Context) -> None:
        from handlers.exceptions import Forbidden

        if not command.roles & ctx.actor.roles:
            if "stranger" in ctx.actor.roles:
                raise Forbidden("请先绑定身份：发送「绑定 学生姓名 手机号后四位」。")
            raise Forbidden(f"您没有使用「{command.name}」的权限。发送「帮助」查看可用命令。")
        if command.private_only and msg.is_group:
            raise Forbidden(f"「{command.name}」请私聊我使用，详情不会在群里显示。")


class Registry:
    """Handler groups run in ascending order; a group that matched ends dispatch."""

    def __init__(self) -> None:
        self._groups: dict[int, list[Handler]] = {}
        self.commands = CommandTable()

    def add(self, handler: Handler, group: int = 0) -> None:
        """Append a handler to a group."""
        self._groups.setdefault(group, []).append(handler)

    def add_command(self, command: Command) -> None:
        """Register a chat command (run by the command handler in group 0)."""
        self.commands.add(command)

    def run(self, msg: InboundMessage, ctx: Context) -> list[Reply]:
        """Dispatch a message and return the replies."""
        for group in sorted(self._groups):
            for handler in self._groups[group]:
                if handler.check(msg, ctx):
                    return handler.handle(msg, ctx)
        return []
