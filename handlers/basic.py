"""Help, binding and the polite answers for everything else."""

from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.message import EVENT_ENTER, MEDIA_MSGTYPES, InboundMessage, Reply
from config.texts import welcome_texts
from handlers import filters
from handlers.commands import command, fold_width, normalize_command_text
from handlers.context import EVERYONE, STAFF_ROLES, STRANGER, Context
from handlers.exceptions import UsageError
from handlers.filters import Filter
from handlers.registry import EVENTS, STAFF_TEXT, STRANGERS, FuncHandler, Registry
from models import binding_codes, people

if TYPE_CHECKING:
    from models.directory import Student

RELATIONS = ("妈妈", "爸爸", "爷爷", "奶奶", "外公", "外婆", "姥姥", "姥爷", "家长", "监护人", "哥哥", "姐姐")


COMPACT_HELP_OVER = 10


@command("帮助", roles=EVERYONE, args=(0, 1), aliases=("help", "菜单", "?"))
def help_command(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """List what this person may do."""
    registry: Registry = ctx.services["registry"]
    allowed = registry.commands.allowed(ctx.actor.roles)
    if args:
        wanted = [c for c in allowed if args[0] in (c.name, *c.aliases)]
        if not wanted:
            return [Reply(f"没有「{args[0]}」这个命令，或您无权使用。发送「帮助」查看可用命令。", private=msg.is_group)]
        command = wanted[0]
        return [Reply(f"{command.usage}\n{command.description}", private=msg.is_group)]
    lines = [f"{ctx.actor.display_name}，您好！我是{ctx.settings.simulator.bot_name}，您可以发送："]
    # Staff have many commands: a compact list fits a phone screen, details on request.
    compact = len(allowed) > COMPACT_HELP_OVER
    for command in allowed:
        lines.append(f"· {command.usage}" if compact else f"· {command.usage}　{command.description}".rstrip())
    if "parent" in ctx.actor.roles:
        lines.append("· 直接留言：反映问题、求助、咨询或建议，我会转给负责老师并告知进度")
    if compact:
        lines.append("发送「帮助 命令」查看说明，例如「帮助 办结」。")
    return [Reply("\n".join(lines), private=msg.is_group, mention_sender=False)]


@command("绑定", roles=EVERYONE, args=(1, 3))
def bind_command(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """Bind this identity to a child's guardian or to a staff member."""
    if len(args) == 1:
        return _bind_with_code(args[0], msg, ctx)
    name, last4 = args[0], args[1]
    relation = args[2] if len(args) > 2 else None
    if not (last4.isdigit() and len(last4) == 4):
        raise UsageError(bind_command, "手机号后四位应为 4 位数字。")
    if relation is not None and relation not in RELATIONS:
        raise UsageError(bind_command, f"关系可填：{'、'.join(RELATIONS)}。")
    cfg = ctx.settings.binding
    outcome = people.bind(
        ctx.session, ctx.actor.identity, name, last4, relation=relation, now=ctx.now,
        max_failures=cfg.max_failures, lock_minutes=cfg.lock_minutes, staff_allowed=not msg.outside_directory,
    )
    return bind_command_reply(outcome, msg, ctx, name, last4)


def bind_command_reply(outcome: people.BindOutcome, msg: InboundMessage, ctx: Context, name: str = "",
                       last4: str = "") -> list[Reply]:
    """Turn a binding outcome (by phone or by code) into the reply."""
    private = msg.is_group
    alerts = [reply for student in outcome.students_locked for reply in _lock_alerts(student, ctx)]
    if outcome.status == "student_locked":
        until = outcome.locked_until.astimezone(ZoneInfo(ctx.settings.app.timezone)) if outcome.locked_until else None
        when = until.strftime("%H:%M") if until else "稍后"
        return [Reply(f"为保护学生信息，该学生的手机号绑定已暂停至 {when}（多次尝试不符）。"
                      "如您是家长，请联系班主任获取一次性绑定码（发送「绑定 绑定码」即可）。", private=private)]
    if outcome.status == "locked":
        until = outcome.locked_until.astimezone(ZoneInfo(ctx.settings.app.timezone)) if outcome.locked_until else None
        when = until.strftime("%H:%M") if until else "稍后"
        text = f"绑定失败次数过多，为保护学生信息，请在 {when} 之后再试，或联系班主任获取帮助。"
    elif outcome.status == "mismatch":
        text = f"姓名与手机号后四位不匹配，请核对后重试（还可尝试 {outcome.remaining} 次）。"
    elif outcome.status == "ambiguous":
        options = "、".join(outcome.relations) or "妈妈、爸爸"
        text = f"该手机号登记了多位家长，请注明您的身份，例如「绑定 {name} {last4} {outcome.relations[0] if outcome.relations else '妈妈'}」（可选：{options}）。"
    elif outcome.status == "staff":
        staff = outcome.staff
        assert staff is not None
        text = f"{staff.name}{staff.role_name}，绑定成功！发送「帮助」查看您可以使用的命令。"
    else:
        names = "、".join(f"{gs.student.name}（{gs.student.school_class.name}）" for gs in outcome.guardianships)
        text = f"绑定成功！您已绑定：{names}。有事可直接留言，发送「帮助」查看更多。"
    return [Reply(text, private=private), *alerts]


def _lock_alerts(student: Student, ctx: Context) -> list[Reply]:
    """Tell the head teacher (once per lock) that guesses at a student locked its binding."""
    head = student.school_class.head_teacher
    if head is None or student.bind_locked_until is None:
        return []
    until = student.bind_locked_until.astimezone(ZoneInfo(ctx.settings.app.timezone)).strftime("%H:%M")
    text = (f"提醒：有人多次用错误的手机号后四位尝试绑定{student.school_class.name}{student.name}的家长身份，"
            f"该生的手机号绑定已暂停至 {until}。如是家长本人，请发送「生成绑定码 {student.name}」"
            "为其生成一次性绑定码；如非家长，请留意。")
    key = f"bindlock:{student.id}:{student.bind_locked_until.isoformat()}"
    return [Reply(text, to=r, dedupe_key=key) for r in people.staff_recipients(ctx.session, head)[:1]]


def _bind_with_code(code: str, msg: InboundMessage, ctx: Context) -> list[Reply]:
    """Bind with a one-time code from a teacher (绑定 123456)."""
    if not (code.isdigit() and len(code) == binding_codes.CODE_DIGITS):
        raise UsageError(bind_command, "绑定码为老师发给您的 6 位数字；也可发送「绑定 学生姓名 手机号后四位」。")
    cfg = ctx.settings.binding
    outcome = binding_codes.redeem_code(
        ctx.session, ctx.actor.identity, code, now=ctx.now, max_failures=cfg.max_failures,
        lock_minutes=cfg.lock_minutes,
    )
    if outcome.status == "mismatch":
        text = f"绑定码不正确、已使用或已过期，请核对或请老师重新生成（还可尝试 {outcome.remaining} 次）。"
        return [Reply(text, private=msg.is_group)]
    return bind_command_reply(outcome, msg, ctx)


@command("解绑", roles=EVERYONE - {STRANGER}, private=True)
def unbind_command(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """Remove every binding of this identity."""
    identity = ctx.actor.identity
    identity.bindings.clear()
    identity.staff_id = None
    return [Reply("已解除绑定。如需重新绑定，请发送「绑定 学生姓名 手机号后四位」。", private=msg.is_group)]


@command("生成绑定码", roles=STAFF_ROLES, args=(1, 3), private=True)
def code_command(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """Create a one-time binding code for one guardian of a student (staff, private chat)."""
    staff = ctx.actor.staff
    assert staff is not None
    name, relation, class_name = args[0], None, None
    for arg in args[1:]:
        if arg in RELATIONS:
            relation = arg
        else:
            class_name = arg
    result = binding_codes.issue_code(
        ctx.session, staff, name, relation=relation, class_name=class_name, now=ctx.now,
        ttl_hours=ctx.settings.binding.code_ttl_hours,
    )
    relations = "、".join(result.relations)
    texts = {
        "no_student": f"没有找到在读学生「{name}」{f'（{class_name}）' if class_name else ''}，请核对姓名。",
        "forbidden": f"您不是「{name}」所在班级的老师，不能为其生成绑定码；请联系班主任。",
        "ambiguous": f"有多名学生叫「{name}」（{'、'.join(result.classes)}），请注明班级，"
                     f"例如「生成绑定码 {name} {result.classes[0] if result.classes else ''}」。",
        "need_relation": f"「{name}」登记了多位家长（{relations}），请注明为哪位生成，"
                         f"例如「生成绑定码 {name} {result.relations[0] if result.relations else '妈妈'}」。",
        "no_relation": f"「{name}」的家长中没有「{relation}」，已登记：{relations or '无'}。",
    }
    if result.status != "issued":
        return [Reply(texts[result.status], private=True)]
    gs, tz = result.guardianship, ZoneInfo(ctx.settings.app.timezone)
    assert gs is not None and result.expires_at is not None
    until = result.expires_at.astimezone(tz).strftime("%m月%d日 %H:%M")
    text = (
        f"{gs.display_name}（{gs.guardian.name}，{gs.guardian.masked_phone}）的绑定码：{result.code}\n"
        f"有效期至 {until}，仅可使用一次。请家长私聊我发送「绑定 {result.code}」。"
    )
    return [Reply(text, private=True)]


# Pictures, files and voice notes of bound people go to handlers.media; strangers get this answer.
_is_not_text = ~filters.TEXT & (~filters.MEDIA | filters.STRANGER)
_is_enter = filters.EVENT & filters.PRIVATE & Filter(lambda msg, ctx: msg.text == EVENT_ENTER, "enter_chat")


def _welcome(msg: InboundMessage, ctx: Context) -> list[Reply]:
    """Greet someone who opened a chat with the bot: how to bind, or a short hello (once a day)."""
    texts = welcome_texts()
    if STRANGER in ctx.actor.roles:
        text = texts["stranger"].format(school=people.school_name(ctx.session, msg.school_id))
    else:
        text = texts["bound"].format(name=ctx.actor.display_name)
    day = ctx.now.astimezone(ZoneInfo(ctx.settings.app.timezone)).date().isoformat()
    return [Reply(text, dedupe_key=f"welcome:{ctx.actor.identity.id}:{day}")]


def _not_text(msg: InboundMessage, ctx: Context) -> list[Reply]:
    if msg.msgtype == "event":
        return []  # joins, follows and the like are logged, not answered
    if msg.msgtype in MEDIA_MSGTYPES:
        return [Reply("请先绑定身份再发送图片或文件：发送「绑定 学生姓名 手机号后四位」。", private=msg.is_group)]
    return [Reply("抱歉，我暂时只能读懂文字和图片。请用文字描述您的问题，或直接联系班主任。", private=msg.is_group)]


def _staff_text(msg: InboundMessage, ctx: Context) -> list[Reply]:
    """Answer staff text that no command or open question took: what they may have meant, or 帮助."""
    from handlers.notices import CANCEL_WORDS, CONFIRM_WORDS

    text = normalize_command_text(msg.text)
    if text in CONFIRM_WORDS | CANCEL_WORDS:
        answer = "目前没有待确认的通知（预览 30 分钟内有效）。请重新发送「通知 范围 内容」起草。"
    else:
        registry: Registry = ctx.services["registry"]
        folded = fold_width(text)
        near = [c for c in registry.commands.allowed(ctx.actor.roles)
                if any(folded.startswith(word) for word in (c.name, *c.aliases))]
        if near:
            command = max(near, key=lambda c: len(c.name))
            answer = f"您是想用「{command.name}」吗？用法：{command.usage}（命令后加空格）"
        else:
            answer = "没有看懂这条消息。发送「帮助」查看您可以使用的命令。"
    return [Reply(answer, private=msg.is_group)]


def _stranger(msg: InboundMessage, ctx: Context) -> list[Reply]:
    text = (
        "您好！为保护学生信息，请先绑定身份：发送「绑定 学生姓名 家长手机号后四位」，"
        "例如「绑定 张小明 1234」。教职工请发送「绑定 本人姓名 手机号后四位」。"
    )
    if msg.is_group:  # a private answer may not reach someone who never wrote privately: say it in the group too
        return [Reply(welcome_texts()["group_hint"], mention_sender=True), Reply(text, private=True)]
    return [Reply(text)]


def register(registry: Registry) -> None:
    """Add help, binding and the fallbacks to the registry."""
    registry.add(FuncHandler(_is_enter, _welcome), group=EVENTS)
    registry.add(FuncHandler(_is_not_text, _not_text), group=EVENTS)
    registry.add(FuncHandler(filters.TEXT & filters.STAFF & filters.NOT_EMPTY, _staff_text, "staff_text"),
                 group=STAFF_TEXT)
    registry.add(FuncHandler(filters.STRANGER, _stranger), group=STRANGERS)
