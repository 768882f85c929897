"""Notices in chat: 通知 / 重要通知 / 定时通知 with a preview, 确认发送 / 取消, 通知统计."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from bot.message import InboundMessage, Reply
from handlers import filters
from handlers.commands import command, normalize_command_text
from handlers.context import HEAD_TEACHER, LEADER, Context
from handlers.exceptions import Forbidden, HandlerError, UsageError
from handlers.registry import Registry
from handlers.time_expressions import describe, parse_time
from models import conversation, media, notice_acks, notices, scope

SENDERS = frozenset({HEAD_TEACHER, LEADER})
PREVIEW_KIND = "notice_preview"
PREVIEW_TTL = dt.timedelta(minutes=30)
CONFIRM_WORDS = frozenset({"确认发送", "确认", "发送"})
PAGE_SIZE = 20  # families still to confirm per 通知统计 page
CANCEL_WORDS = frozenset({"取消", "取消发送", "不发了"})
_WHEN = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


def _scope_for(ctx: Context, text: str) -> scope.Scope:
    """Parse the scope and refuse classes the sender may not address."""
    staff = ctx.actor.staff
    assert staff is not None
    try:
        return scope.sender_scope(ctx.session, staff, text)
    except scope.ScopeForbidden as exc:
        raise Forbidden(str(exc)) from exc
    except scope.ScopeError as exc:
        raise HandlerError(str(exc)) from exc


def _preview(ctx: Context, notice: notices.Notice) -> list[Reply]:
    reach = notices.reach(ctx.session, notice.class_ids)
    lines = [f"{'重要' if notice.important else ''}通知预览（{notice.scope_label}，{reach.classes} 个班级）：",
             notice.text, "",
             f"将发送到 {reach.groups} 个班级群"]
    if ctx.settings.notices.private_copy:
        lines[-1] += f"，并私信 {reach.bound_families}/{reach.families} 户已绑定的家庭（各附本户确认链接）"
    lines[-1] += "。"
    files = media.of_notice(ctx.session, notice.id)
    if files:
        lines.append(f"附件：{media.summary(files)}（{'、'.join(f.name for f in files)}），随通知一起发出。")
    if notice.scheduled_for is not None:
        lines.append(f"定时发送：{describe(notice.scheduled_for, ctx.settings.app.timezone)}")
    lines.append("回复「确认发送」发送，回复「取消」放弃。")
    conversation.ask(ctx.session, ctx.actor.identity.id, PREVIEW_KIND, {"notice_id": notice.id},
                     now=ctx.now, ttl=PREVIEW_TTL)
    return [Reply("\n".join(lines))]


def _draft(ctx: Context, scope_text: str, text: str, important: bool,
           when: dt.datetime | None = None) -> list[Reply]:
    staff = ctx.actor.staff
    assert staff is not None
    parsed = _scope_for(ctx, scope_text)
    notice = notices.draft_notice(ctx.session, school_id=staff.school_id, author=staff, scope=parsed,
                                  text=text.strip(), important=important, scheduled_for=when, now=ctx.now)
    # A picture or PDF the author sent just before goes with the notice (handlers.media keeps it waiting).
    since = ctx.now - dt.timedelta(minutes=ctx.settings.media.join_minutes * 3)
    media.attach_to_notice(ctx.session, media.unattached(ctx.session, since=since, staff_id=staff.id), notice.id, ctx.now)
    return _preview(ctx, notice)


@command("通知", roles=SENDERS, args=2, rest=True, private=True)
def notice_command(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """Draft a notice and show its preview."""
    return _draft(ctx, args[0], args[1], important=False)


@command("重要通知", roles=SENDERS, args=2, rest=True, private=True)
def important_notice_command(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """Draft an important notice (head teachers are reminded of families who have not acknowledged)."""
    return _draft(ctx, args[0], args[1], important=True)


@command("定时通知", roles=SENDERS, args=(1, 2), rest=True, private=True)
def scheduled_notice_command(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """Draft a notice to be sent at a time given as 2026-12-01 08:00 or in words (明天早上8点, 下周一 7:30)."""
    tz = ctx.settings.app.timezone
    text = " ".join(args)  # the time may itself contain a space (下周一 7:30)
    found = parse_time(text, ctx.now, tz)
    if found is None:
        raise UsageError(scheduled_notice_command, "请写明发送时间，例如「明天早上8点」「下周一 7:30」「周五下午3点」"
                                     "或「2026-12-01 08:00」。")
    rest = text[found.end:].split(maxsplit=1)
    if len(rest) < 2:
        raise UsageError(scheduled_notice_command, f"已识别时间 {describe(found.when, tz)}，还需要范围和内容。")
    if found.when <= ctx.now:
        raise UsageError(scheduled_notice_command, f"定时时间 {describe(found.when, tz)} 已过，请填写将来的时间。")
    return _draft(ctx, rest[0], rest[1], important=False, when=found.when)


def parse_local_time(date: str, clock: str, timezone: str) -> dt.datetime | None:
    """Parse ``2026-12-01`` and ``08:00`` as local time; return UTC, or None if malformed."""
    match = _WHEN.match(date)
    parts = clock.replace("：", ":").split(":")
    if match is None or len(parts) != 2 or not all(p.isdigit() for p in parts):
        return None
    try:
        local = dt.datetime(*(int(g) for g in match.groups()), int(parts[0]), int(parts[1]),
                            tzinfo=ZoneInfo(timezone))
    except ValueError:
        return None
    return local.astimezone(dt.UTC)


def _is_preview_answer(msg: InboundMessage, ctx: Context) -> bool:
    if not (filters.TEXT & filters.STAFF)(msg, ctx):
        return False
    word = normalize_command_text(msg.text)
    if word not in CONFIRM_WORDS | CANCEL_WORDS:
        return False
    return conversation.pending(ctx.session, ctx.actor.identity.id, PREVIEW_KIND, ctx.now) is not None


def _preview_answer(msg: InboundMessage, ctx: Context) -> list[Reply]:
    question = conversation.pending(ctx.session, ctx.actor.identity.id, PREVIEW_KIND, ctx.now)
    assert question is not None
    conversation.answered(ctx.session, ctx.actor.identity.id, PREVIEW_KIND)
    notice = notices.get_notice(ctx.session, int(question.payload.get("notice_id", 0)))
    if notice is None or notice.status != notices.NoticeStatus.DRAFT:
        return [Reply("这条通知已处理过。")]
    if normalize_command_text(msg.text) in CANCEL_WORDS:
        notices.cancel_notice(ctx.session, notice)
        return [Reply("已取消，通知未发送。")]
    copies = notices.confirm_notice(ctx.session, notice, ctx.settings, ctx.now)
    if notice.status == notices.NoticeStatus.SCHEDULED:
        assert notice.scheduled_for is not None
        return [Reply(f"已定时（编号 {notice.id}），将于 {describe(notice.scheduled_for, ctx.settings.app.timezone)} 发送。"
                      f"发送「取消通知 {notice.id}」可撤回。")]
    return [Reply(f"已发送（编号 {notice.id}），共 {copies} 条。发送「通知统计 {notice.id}」查看送达与确认情况。")]


@command("通知统计", roles=SENDERS, args=(1, 2))
def stats_command(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """Show delivered / acknowledged / not yet per class, and every family still to confirm, a page at a time."""
    staff = ctx.actor.staff
    assert staff is not None
    if not args[0].isdigit() or (len(args) > 1 and not args[1].isdigit()):
        raise UsageError(stats_command, "请写通知编号，例如「通知统计 3」；看第 2 页写「通知统计 3 2」。")
    page = int(args[1]) if len(args) > 1 else 1
    notice = notices.get_notice(ctx.session, int(args[0]), staff.school_id)
    if notice is None or notice.status in (notices.NoticeStatus.DRAFT, notices.NoticeStatus.CANCELLED):
        raise HandlerError(f"没有找到已发送的通知 {args[0]}。")
    stats = notice_acks.notice_stats(ctx.session, notice)
    if LEADER not in ctx.actor.roles and notice.author_id != staff.id:
        own = set(scope.headed_class_ids(ctx.session, staff.id))
        stats = [s for s in stats if s.class_id in own]
        if not stats:
            raise Forbidden("这条通知不涉及您的班级。")
    lines = [f"通知 {notice.id}（{notice.scope_label}）：{_excerpt(notice.text)}"]
    if notice.status == notices.NoticeStatus.SCHEDULED and notice.scheduled_for is not None:
        lines.append(f"尚未发送，定时 {describe(notice.scheduled_for, ctx.settings.app.timezone)}。")
        return [Reply("\n".join(lines), private=msg.is_group)]
    for s in stats:
        lines.append(f"{s.class_name}：送达 {s.delivered}/{s.families} 户，已确认 {s.acked}，未确认 {s.not_yet}")
    if len(stats) > 1:
        total = [sum(getattr(s, f) for s in stats) for f in ("delivered", "families", "acked", "not_yet")]
        lines.append(f"合计：送达 {total[0]}/{total[1]} 户，已确认 {total[2]}，未确认 {total[3]}")
    lines += _pending_page(notice.id, stats, page)
    return [Reply("\n".join(lines), private=msg.is_group)]


def _pending_page(notice_id: int, stats: list, page: int) -> list[str]:
    """Return one page of the families still to confirm, grouped by class, with how to see the next."""
    pending = [(s.class_name, name) for s in stats for name in s.pending]
    if not pending:
        return ["全部家庭均已确认。"]
    pages = -(-len(pending) // PAGE_SIZE)
    if not 1 <= page <= pages:
        return [f"未确认家庭共 {len(pending)} 户，共 {pages} 页；请发送「通知统计 {notice_id} 1」到「{pages}」。"]
    chunk = pending[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    lines = [f"未确认家庭（第 {page}/{pages} 页，共 {len(pending)} 户）："]
    for class_name in dict.fromkeys(c for c, _ in chunk):
        lines.append(f"{class_name}：" + "、".join(f"{n}家长" for c, n in chunk if c == class_name))
    if page < pages:
        lines.append(f"发送「通知统计 {notice_id} {page + 1}」看下一页。")
    return lines


@command("取消通知", roles=SENDERS, args=1, private=True)
def cancel_scheduled_command(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """Cancel a scheduled notice before the scheduler sends it (author or leaders)."""
    staff = ctx.actor.staff
    assert staff is not None
    if not args[0].isdigit():
        raise UsageError(cancel_scheduled_command, "请写通知编号，例如「取消通知 3」。")
    notice = notices.get_notice(ctx.session, int(args[0]), staff.school_id)
    if notice is None or notice.status == notices.NoticeStatus.DRAFT:
        raise HandlerError(f"没有找到定时通知 {args[0]}。")
    if LEADER not in ctx.actor.roles and notice.author_id != staff.id:
        raise Forbidden("只能取消自己发起的定时通知。")
    if notice.status != notices.NoticeStatus.SCHEDULED or not notices.cancel_notice(ctx.session, notice):
        state = "已发送" if notice.status == notices.NoticeStatus.SENT else "已取消"
        raise HandlerError(f"通知 {notice.id} {state}，无法取消。")
    return [Reply(f"已取消定时通知 {notice.id}（{notice.scope_label}），不会发送。")]


def _excerpt(text: str) -> str:
    return text if len(text) <= 20 else text[:20] + "…"


def register(registry: Registry) -> None:
    """Add the notice commands and the preview answers."""
    registry.add_answer({PREVIEW_KIND}, _is_preview_answer, _preview_answer, "notice_preview")
