"""What the bot does with a normalised message.

``build_registry()`` assembles the ordered handler groups; ``dispatch()``
(in ``handlers.pipeline``) runs one message through them.
"""

from __future__ import annotations

from handlers.pipeline import DispatchResult, dispatch
from handlers.registry import CommandHandler, Registry

__all__ = ["DispatchResult", "build_registry", "dispatch"]


def build_registry() -> Registry:
    """Return the registry with every feature's handlers, in order.

    Groups: -10 non-text, 0 chat commands, 10 conversations in progress,
    50 parent messages (classification), 100 strangers.
    """
    from handlers import (
        basic,
        exports,
        groups,
        leader_commands,
        notice_acks,
        notices,
        surveys,
        ticket_commands,
        tickets,
        visits,
    )

    registry = Registry()
    for module in (basic, groups, notices, notice_acks, surveys, exports, tickets, ticket_commands, leader_commands,
                   visits):
        module.register(registry)
    registry.add(CommandHandler(registry.commands), group=0)
    return registry
