"""The simulator platform: try Lianxin in a browser or terminal, no account needed.

It goes through exactly the same pipeline as the real platforms and behaves
like them: in a class group only messages that @-mention the bot reach it;
everything else is ordinary chatter the bot never sees.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import uuid
from typing import Any

from flask import Blueprint, abort, jsonify, render_template, request
from sqlalchemy.orm import Session

from bot.channel_simulator import PLATFORM
from bot.extension import get_session, lianxin
from bot.message import InboundMessage, clean_text
from models import simulator as sim

bp = Blueprint("simulator", __name__, url_prefix="/simulator", template_folder="templates")


def external_id(person_key: str) -> str:
    """Return the simulated platform user id of a person."""
    return f"sim-{person_key}"


def chat_key(person: sim.SimPerson, where: str) -> str:
    """Return the transcript key of a person's private chat or class group."""
    if where == "group":
        if not person.group_id:
            raise LookupError("no group")
        return f"group:{person.group_id}"
    return f"user:{external_id(person.key)}"


@dataclasses.dataclass
class Posted:
    """What happened to a simulated message."""

    delivered: bool
    duplicate: bool = False
    outbox_ids: list[int] = dataclasses.field(default_factory=list)


def post(ext: Any, session: Session, person: sim.SimPerson, where: str, text: str,
         now: dt.datetime | None = None, msg_id: str | None = None) -> Posted:
    """Post a message as a simulated person, run the bot, deliver its replies.

    Args:
        ext: the application's Lianxin extension.
        session: a fresh session; committed here like a webhook route would.
        person: who speaks.
        where: ``private`` or ``group``.
        text: what they type; in a group only ``@<bot name>`` reaches the bot.
        now: the time (tests pass a fixed clock).
        msg_id: the platform message id (tests resend one to check dedupe).
    """
    from handlers import dispatch

    now = now or ext.now()
    text = clean_text(text)
    bot_name = ext.settings.simulator.bot_name
    chat = chat_key(person, where)
    sim.add_line(session, person.school_id, chat, person.label.split("（")[0], text, now)
    is_group = where == "group"
    mention = re.compile(rf"@\s*{re.escape(bot_name)}\s*")
    if is_group:
        if person.group_id:
            _ensure_group(session, person, now)
        if not mention.search(text):
            session.commit()
            return Posted(delivered=False)
    msg = InboundMessage(
        platform=PLATFORM,
        school_id=person.school_id,
        msg_id=msg_id or uuid.uuid4().hex,
        conversation_id=person.group_id if is_group and person.group_id else external_id(person.key),
        is_group=is_group,
        sender_id=external_id(person.key),
        sender_name=person.label.split("（")[0],
        text=mention.sub(" ", text).strip(),
        sent_at=now,
        mentions=(bot_name,) if is_group else (),
        mentioned_bot=is_group,
    )
    result = dispatch(msg, session=session, settings=ext.settings, registry=ext.registry, now=now)
    session.commit()
    if result.outbox_ids:
        ext.sender.send_ids(session, result.outbox_ids, now)
        session.commit()
    return Posted(True, result.duplicate, result.outbox_ids)


ATTACHMENT_LINE = re.compile(r"^\[附件#(\d+)\] ")


def post_file(ext: Any, session: Session, person: sim.SimPerson, where: str, data: bytes, name: str,
              now: dt.datetime | None = None) -> Posted:
    """Send a picture or file as a simulated person (a picture in the group goes to the bot, as an @).

    The simulator is its own platform: the bytes are checked and stored at
    once (real platforms are downloaded by the inbox worker first), then the
    message goes through the same pipeline as everyone's.
    """
    from handlers import dispatch
    from models import media
    from models.media_safety import MediaRefused, check

    now = now or ext.now()
    attachments: tuple[int, ...] = ()
    refused, kind = None, "file"
    try:
        checked = check(data, media.limits(ext.settings))
        row = media.save(session, ext.settings, checked, school_id=person.school_id, now=now, name=name)
        attachments, kind = (row.id,), {"image": "image", "audio": "voice"}.get(checked.kind, "file")
        label = f"[附件#{row.id}] {row.label}：{row.name}"
    except MediaRefused as exc:
        refused = exc.reason
        label = f"（发送文件 {clean_text(name)[:60]}）"
    chat = chat_key(person, where)
    sim.add_line(session, person.school_id, chat, person.label.split("（")[0], label, now)
    is_group = where == "group"
    if is_group and person.group_id:
        _ensure_group(session, person, now)
    msg = InboundMessage(
        platform=PLATFORM, school_id=person.school_id, msg_id=uuid.uuid4().hex,
        conversation_id=person.group_id if is_group and person.group_id else external_id(person.key),
        is_group=is_group, sender_id=external_id(person.key), sender_name=person.label.split("（")[0], text="",
        sent_at=now, msgtype=kind, mentioned_bot=is_group, attachments=attachments, media_refused=refused,
    )
    result = dispatch(msg, session=session, settings=ext.settings, registry=ext.registry, now=now)
    session.commit()
    if result.outbox_ids:
        ext.sender.send_ids(session, result.outbox_ids, now)
        session.commit()
    return Posted(True, result.duplicate, result.outbox_ids)


def _ensure_group(session: Session, person: sim.SimPerson, now: dt.datetime) -> None:
    from models.directory import SchoolClass

    class_id = int(person.group_id.rsplit("-", 1)[1]) if person.group_id else 0
    school_class = session.get(SchoolClass, class_id)
    if school_class is not None:
        sim.ensure_group(session, school_class, now)


def _ext() -> Any:
    return lianxin()


@bp.get("")
def page() -> str:
    """Serve the simulator page."""
    return render_template("simulator.html", bot_name=_ext().settings.simulator.bot_name)


@bp.get("/api/people")
def api_people():
    """List who can be played."""
    people = sim.people(get_session())
    return jsonify([dataclasses.asdict(p) for p in people])


@bp.post("/api/send")
def api_send():
    """Post a message as someone."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not str(data.get("text", "")).strip():
        abort(400, "需要 person、where、text")
    session = get_session()
    person = sim.find_person(session, str(data.get("person", "")))
    if person is None:
        abort(404, "没有这个人")
    where = "group" if data.get("where") == "group" else "private"
    if where == "group" and not person.group_id:
        abort(400, "此人没有班级群")
    posted = post(_ext(), session, person, where, str(data["text"]).strip()[:2000])
    return jsonify(delivered=posted.delivered, duplicate=posted.duplicate)


@bp.post("/api/send_file")
def api_send_file():
    """Send a picture or file (multipart ``file``) as someone."""
    upload = request.files.get("file")
    session = get_session()
    person = sim.find_person(session, str(request.form.get("person", "")))
    if upload is None or person is None:
        abort(400, "需要 person、where、file")
    where = "group" if request.form.get("where") == "group" else "private"
    if where == "group" and not person.group_id:
        abort(400, "此人没有班级群")
    data = upload.read(_ext().settings.media.max_bytes + 1)
    posted = post_file(_ext(), session, person, where, data, upload.filename or "")
    return jsonify(delivered=posted.delivered, duplicate=posted.duplicate)


@bp.get("/api/attachment/<int:attachment_id>")
def api_attachment(attachment_id: int):
    """Show a picture a simulated person sent (the simulator is for demos only, never in production)."""
    from flask import Response

    from models import media
    from models.identity import Identity

    session = get_session()
    found = media.by_ids(session, [attachment_id])
    sender = session.get(Identity, found[0].identity_id) if found and found[0].identity_id else None
    if sender is None or sender.platform != PLATFORM:  # only what simulated people sent, never a real parent's
        abort(404)
    data = media.read(session, _ext().settings, found[0])
    if data is None:
        abort(404)
    return Response(data, mimetype=found[0].mime, headers={"Cache-Control": "no-store"})


@bp.get("/api/chat")
def api_chat():
    """Return the lines of a person's private chat or class group."""
    session = get_session()
    person = sim.find_person(session, request.args.get("person", ""))
    if person is None:
        abort(404)
    try:
        chat = chat_key(person, request.args.get("where", "private"))
    except LookupError:
        return jsonify([])
    after = request.args.get("after", "0")
    rows = sim.lines(session, chat, after_id=int(after) if after.isdecimal() else 0)
    return jsonify([_line(r) for r in rows])


def _line(row: Any) -> dict[str, Any]:
    line = {"id": row.id, "author": row.author, "from_bot": row.from_bot, "text": row.text,
            "time": row.created_at.isoformat()}
    found = ATTACHMENT_LINE.match(row.text)
    if found:
        line["attachment"] = f"{bp.url_prefix}/api/attachment/{found.group(1)}"
        line["text"] = row.text[found.end():]
    return line
