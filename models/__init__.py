"""SQLAlchemy models and the services that change them.

Importing this package registers every table on ``Base.metadata``.
"""

from models import (  # noqa: F401  # noqa: F401  # noqa: F401  # noqa: F401
    console_login,
    contact_sync,
    conversation,
    directory,
    exports,
    faq,
    grid,
    identity,
    inbound,
    jobs,
    media,
    notice_acks,
    notices,
    open_days,
    outbox,
    platform_state,
    praise,
    ratelimit,
    reception,
    simulator,
    surveys,
    tickets,
    tokens,
    visits,
)
from models.base import Base

__all__ = ["Base"]
