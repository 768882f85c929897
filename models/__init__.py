"""SQLAlchemy models and the services that change them.

Importing this package registers every table on ``Base.metadata``.
"""

from models import conversation, directory, identity, inbound, outbox, ratelimit, simulator, tokens  # noqa: F401
from models import platform_state  # noqa: F401
from models import faq, praise, tickets  # noqa: F401
from models import exports, notice_acks, notices, surveys  # noqa: F401
from models import jobs, visits  # noqa: F401
from models.base import Base

__all__ = ["Base"]
