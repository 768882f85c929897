"""Neutral message types: the contract between adapters, handlers and models.

This is the only ``bot`` module that ``handlers`` and ``models`` import.
Platform ids and reply handles travel in ``context`` mappings whose meaning
only the owning adapter and sender know.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

GROUP = "group"
USER = "user"
# The ``text`` of an event message when the person opened a private chat with the bot
# (微信客服 enter_session …): adapters map their platform's event names to this.
EVENT_ENTER = "enter"

# Message types that carry media (a picture, a file or video, a voice note without recognition text).
MEDIA_MSGTYPES = frozenset({"image", "file", "voice"})

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class UnstorableMessage(ValueError):
    """A platform id neither database can store (a NUL or a lone surrogate): the delivery is malformed."""


def clean_text(value: str) -> str:
    """Return text both databases can store: NUL dropped, lone surrogates replaced by U+FFFD."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = _LONE_SURROGATE.sub("\ufffd", value)
    return value


def _storable_id(name: str, value: str) -> None:
    if "\x00" in value or _LONE_SURROGATE.search(value):
        raise UnstorableMessage(f"{name} contains a NUL or a lone surrogate")


@dataclasses.dataclass(frozen=True, slots=True)
class Recipient:
    """Where an outbound message goes on a platform.

    Attributes:
        platform: adapter name (``simulator``, ``dingtalk``, ``wecom_kf`` …).
        kind: ``user`` for a private chat, ``group`` for a conversation.
        address: the platform's user id or conversation id.
        school_id: the school whose credentials send it.
        identity_id: our identity row for a user, when known.
        context: platform reply handles (e.g. a DingTalk sessionWebhook).
    """

    platform: str
    kind: str
    address: str
    school_id: int | None = None
    identity_id: int | None = None
    context: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def is_group(self) -> bool:
        """Return whether this is a group conversation."""
        return self.kind == GROUP


@dataclasses.dataclass(frozen=True, slots=True)
class InboundMessage:
    """One message as every adapter normalises it.

    ``msgtype`` is ``text`` (voice recognition text counts as text), ``image``,
    ``file`` (also video), ``voice`` (no recognition text), ``event`` or
    ``unsupported``. ``media``: what the adapter found to download (platform
    handles only its fetcher reads; a text with pictures, such as DingTalk
    richText, has them too). ``attachments``: the stored attachment ids once
    the inbox worker fetched and checked them; ``media_refused``: why some were
    not kept (a key of ``config/media.yaml`` ``refused``). ``text`` has the bot's own
    @mention stripped by the adapter when it can. ``outside_directory``: the
    platform says the sender is not a member of the school's organisation
    (e.g. a DingTalk user of another corp); such a sender never acts as staff.
    """

    platform: str
    school_id: int
    msg_id: str
    conversation_id: str
    is_group: bool
    sender_id: str
    text: str
    sent_at: dt.datetime
    sender_name: str | None = None
    msgtype: str = "text"
    mentions: tuple[str, ...] = ()
    mentioned_bot: bool = False
    raw: Mapping[str, Any] | None = None
    reply_context: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    outside_directory: bool = False
    media: tuple[Mapping[str, Any], ...] = ()
    attachments: tuple[int, ...] = ()
    media_refused: str | None = None

    def __post_init__(self) -> None:
        # Every adapter builds one of these: this is the one boundary where input is made storable.
        for name in ("msg_id", "conversation_id", "sender_id"):
            _storable_id(name, getattr(self, name))
        object.__setattr__(self, "text", clean_text(self.text))
        if self.sender_name is not None:
            object.__setattr__(self, "sender_name", clean_text(self.sender_name))

    @property
    def conversation(self) -> Recipient:
        """Return where a reply in the same conversation goes."""
        return Recipient(
            platform=self.platform,
            kind=GROUP if self.is_group else USER,
            address=self.conversation_id if self.is_group else self.sender_id,
            school_id=self.school_id,
            context=self.reply_context,
        )

    @property
    def sender(self) -> Recipient:
        """Return the sender's private address."""
        context = {} if self.is_group else self.reply_context
        return Recipient(self.platform, USER, self.sender_id, self.school_id, context=context)


@dataclasses.dataclass(frozen=True, slots=True)
class Reply:
    """Something the bot wants to say.

    Attributes:
        text: the message (plain text, or markdown when ``fmt`` is markdown).
        to: an explicit recipient; None means the conversation the message came from.
        private: send to the sender privately instead of the conversation.
        fmt: ``text`` or ``markdown``.
        urgent: may break quiet hours.
        mention_sender: @ the sender (group replies).
        dedupe_key: a key that makes the message go out at most once.
        ref: what the message is about, e.g. ``ticket:12`` (for audits).
    """

    text: str
    to: Recipient | None = None
    private: bool = False
    fmt: str = "text"
    urgent: bool = False
    mention_sender: bool = False
    dedupe_key: str | None = None
    ref: str | None = None
    title: str | None = None
