"""Composable message predicates for handler checks: ``TEXT & PARENT & PRIVATE``.

A filter is called like a handler's check, ``f(msg, ctx) -> bool``, and
combines with ``&`` (both), ``|`` (either) and ``~`` (not); ``&`` and ``|``
stop at the first operand that decides, so a cheap filter put first spares a
costly one (a database look-up, the classifier). Plain functions with the same
signature combine too: ``TEXT & is_leave_note_check``.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.message import MEDIA_MSGTYPES, InboundMessage
from handlers.context import PARENT as PARENT_ROLE
from handlers.context import STRANGER as STRANGER_ROLE
from handlers.context import Context

Predicate = Callable[[InboundMessage, Context], bool]


class Filter:
    """A named predicate on a message and its context, combinable with ``& | ~``."""

    __slots__ = ("_func", "name")

    def __init__(self, func: Predicate, name: str = "") -> None:
        self._func, self.name = func, name or getattr(func, "__name__", "filter")

    def __call__(self, msg: InboundMessage, ctx: Context) -> bool:
        return bool(self._func(msg, ctx))

    def __and__(self, other: Predicate) -> Filter:
        right = _filter(other)
        return Filter(lambda m, c: self(m, c) and right(m, c), f"({self.name} & {right.name})")

    def __rand__(self, other: Predicate) -> Filter:
        return _filter(other) & self

    def __or__(self, other: Predicate) -> Filter:
        right = _filter(other)
        return Filter(lambda m, c: self(m, c) or right(m, c), f"({self.name} | {right.name})")

    def __ror__(self, other: Predicate) -> Filter:
        return _filter(other) | self

    def __invert__(self) -> Filter:
        return Filter(lambda m, c: not self(m, c), f"~{self.name}")

    def __repr__(self) -> str:
        return f"<Filter {self.name}>"


def _filter(func: Predicate) -> Filter:
    return func if isinstance(func, Filter) else Filter(func)


def role(*roles: str) -> Filter:
    """Senders with at least one of these roles (``handlers.context``)."""
    wanted = frozenset(roles)
    return Filter(lambda m, c: bool(wanted & c.actor.roles), "role(" + ",".join(sorted(wanted)) + ")")


def msgtype(*types: str) -> Filter:
    """Messages of these types (``text``, ``event``, ``image`` …)."""
    wanted = frozenset(types)
    return Filter(lambda m, c: m.msgtype in wanted, "msgtype(" + ",".join(sorted(wanted)) + ")")


def text(predicate: Callable[[str], bool], name: str = "") -> Filter:
    """Text messages whose text satisfies ``predicate``."""
    return TEXT & Filter(lambda m, c: predicate(m.text), name or getattr(predicate, "__name__", "text"))


TEXT = msgtype("text")
EVENT = msgtype("event")
MEDIA = Filter(lambda m, c: m.msgtype in MEDIA_MSGTYPES, "MEDIA")
NOT_EMPTY = Filter(lambda m, c: bool(m.text.strip()), "NOT_EMPTY")
PRIVATE = Filter(lambda m, c: not m.is_group, "PRIVATE")
GROUP = Filter(lambda m, c: m.is_group, "GROUP")
PARENT = role(PARENT_ROLE)
STRANGER = role(STRANGER_ROLE)
STAFF = Filter(lambda m, c: c.actor.is_staff, "STAFF")
