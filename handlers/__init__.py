"""What the bot does with a normalised message.

``build_registry()`` assembles the ordered handler groups; ``dispatch()``
(in ``handlers.pipeline``) runs one message through them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from handlers.pipeline import DispatchResult, dispatch
    from handlers.registry import Registry

__all__ = ["DispatchResult", "build_registry", "dispatch"]


def __getattr__(name: str) -> Any:
    """Import the pipeline lazily: ``handlers.classifier`` alone must not load the database layer."""
    if name in ("dispatch", "DispatchResult"):
        from handlers import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'handlers' has no attribute {name!r}")


def build_registry() -> Registry:
    """Return the registry with every feature's handlers, in order.

    The groups are named in ``handlers.registry`` (EVENTS, COMMANDS, ANSWERS,
    LEAVE, PARENT_MESSAGES, STAFF_TEXT, STRANGERS).
    """
    from handlers import (  # noqa: I001 - feature modules, in registration order below
        basic,
        console,
        exports,
        grid,
        groups,
        leave,
        leader_commands,
        media,
        notice_acks,
        notices,
        open_days,
        reception,
        review_commands,
        surveys,
        ticket_commands,
        tickets,
        visits,
    )

    from handlers.commands import declared
    from handlers.registry import COMMANDS, CommandHandler, Registry

    registry = Registry()
    for module in (basic, groups, media, notices, notice_acks, surveys, exports, console, leave, tickets,
                   ticket_commands, leader_commands, visits, reception, grid, open_days, review_commands):
        for command in declared(module.__name__):  # the @command functions, in the order they are defined
            registry.add_command(command)
        register = getattr(module, "register", None)  # handlers and answers beside the commands
        if register is not None:
            register(registry)
    registry.add(CommandHandler(registry.commands), group=COMMANDS)
    return registry
