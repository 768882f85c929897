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
    identity,
    inbound,
    jobs,
    notice_acks,
    notices,
    outbox,
    platform_state,
    praise,
    ratelimit,
    simulator,
    surveys,
    tickets,
    tokens,
    visits,
)
from models.base import Base

__all__ = ["Base"]
