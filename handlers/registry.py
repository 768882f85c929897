"""Ordered handler groups: within a group the first match wins."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Protocol

from bot.message import InboundMessage, Reply
from handlers import filters
from handlers.commands import Command, CommandTable, split_args
from handlers.context import Context
from handlers.exceptions import HandlerError
from models import conversation

log = logging.getLogger(__name__)

# The handler groups, in the order a message meets them (lower first; within a group the first match wins).
EVENTS = -10  # enter-chat events and messages that are not text
MEDIA = -5  # pictures, files and voice notes of bound people (handlers/media.py)
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
        return filters.TEXT(msg, ctx) and self.table.match(msg.text) is not None

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


Check = Callable[[InboundMessage, Context], bool]
Handle = Callable[[InboundMessage, Context], list[Reply]]


@dataclasses.dataclass(frozen=True)
class Answer:
    """How one feature takes answers to the questions it asks.

    Attributes:
        kinds: the pending-question kinds (``models.conversation``) the feature
            asks; the answer is consulted only while one of them is open. Empty
            for a standing answer that needs no question (收到 to an open notice).
        check / handle: as for a handler; ``check`` still decides whether this
            message is the answer (``1`` may belong to another, later question).
    """

    kinds: frozenset[str]
    check: Check
    handle: Handle
    name: str = ""


class AnswerRouter:
    """The one handler of the ANSWERS group: gives a message to the feature whose question it answers.

    Features are consulted in registration order, each only while a question
    of one of its kinds is open for the sender.
    """

    name = "answers"

    def __init__(self) -> None:
        self.answers: list[Answer] = []

    def add(self, answer: Answer) -> None:
        """Register a feature's answer."""
        self.answers.append(answer)

    def route(self, msg: InboundMessage, ctx: Context) -> Answer | None:
        """Return the answer that takes the message, if any."""
        open_kinds: set[str] | None = None
        for answer in self.answers:
            if answer.kinds:
                if open_kinds is None:
                    open_kinds = conversation.open_kinds(ctx.session, ctx.actor.identity.id, ctx.now)
                if not answer.kinds & open_kinds:
                    continue
            if answer.check(msg, ctx):
                return answer
        return None

    def check(self, msg: InboundMessage, ctx: Context) -> bool:
        """Take the message when it answers an open question."""
        return self.route(msg, ctx) is not None

    def handle(self, msg: InboundMessage, ctx: Context) -> list[Reply]:
        """Let the feature that asked record the answer."""
        answer = self.route(msg, ctx)
        assert answer is not None
        return answer.handle(msg, ctx)


class Registry:
    """Handler groups run in ascending order; a group that matched ends dispatch."""

    def __init__(self) -> None:
        self._groups: dict[int, list[Handler]] = {}
        self.commands = CommandTable()
        self.answers = AnswerRouter()
        self.add(self.answers, group=ANSWERS)

    def add(self, handler: Handler, group: int = 0) -> None:
        """Append a handler to a group."""
        self._groups.setdefault(group, []).append(handler)

    def add_answer(self, kinds: frozenset[str] | set[str] | tuple[str, ...], check: Check, handle: Handle,
                   name: str = "") -> None:
        """Register the answers to a feature's questions of these kinds (run by the router in ANSWERS)."""
        self.answers.add(Answer(frozenset(kinds), check, handle, name or handle.__name__))

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
