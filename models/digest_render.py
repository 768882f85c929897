"""The digest as a phone reads it: plain text, or markdown for platforms that render it."""

from __future__ import annotations

from collections.abc import Callable

from models.digest import SHOWN, Digest, Rates, TicketLine, TicketList
from models.labels import urgency_name

MAX_LINES = SHOWN


def pct(value: float | None) -> str:
    """Return a rate as ``93%`` (``—`` when nothing was due)."""
    return "—" if value is None else f"{value:.0%}"


def rates_line(r: Rates) -> str:
    """Return the three hotline rates on one line."""
    return f"响应率 {pct(r.response_rate)}｜按期办结率 {pct(r.on_time_rate)}｜满意率 {pct(r.satisfaction_rate)}"


def sections(d: Digest, principal: bool) -> list[tuple[str, list[str]]]:
    """Return the digest as (heading, lines) pairs; complaints about staff only for the principal."""
    def visible(items: list[TicketLine]) -> list[TicketLine]:
        return items if principal else [x for x in items if not x.about_staff]

    def listed(items: TicketList, extra: Callable[[TicketLine], str] = lambda x: "") -> list[str]:
        shown, total = items.visible(principal)
        lines = [ticket(x, extra(x)) for x in shown]
        return lines + ([f"……另有 {total - len(shown)} 件"] if total > len(shown) else [])

    def ticket(x: TicketLine, extra: str = "") -> str:
        flag = "【急】" if x.urgency == "urgent" else ""
        text = x.text if len(x.text) <= 24 else x.text[:23] + "…"
        return f"{flag}{x.number} {x.category}｜{x.assignee}{extra}｜{text}"

    def capped(lines: list[str]) -> list[str]:
        return lines[:MAX_LINES] + ([f"……另有 {len(lines) - MAX_LINES} 件"] if len(lines) > MAX_LINES else [])

    urg = "，".join(f"{urgency_name(k)} {v}" for k, v in sorted(d.new_by_urgency.items(), key=lambda kv: kv[0] != "urgent"))
    new = [f"共 {d.new_total} 件" + (f"（{urg}）" if urg else "")]
    new += [f"· {name} {n}" for name, n in d.new_by_category]
    t = d.today
    out: list[tuple[str, list[str]]] = [
        ("需要您处理", [f"· {a}" for a in d.actions] or ["· 暂无"]),
        ("今日新增", new),
        ("未办结紧急工单", listed(d.open_urgent) or ["无"]),
        ("逾期工单", listed(d.overdue, lambda x: f" 时限{x.deadline:%m-%d}" if x.deadline else "") or ["无"]),
        ("今日办结与回访", [f"办结 {d.resolved_today} 件；回访 满意 {t.satisfied}、基本满意 {t.basic}、"
                         f"不满意 {t.unsatisfied}、未回访 {t.not_reached}",
                         f"今日满意率 {pct(t.satisfaction_rate)}"]),
        ("本月累计", [rates_line(d.month), f"未回访（不计入满意率）{d.month.not_reached} 件"]),
        ("按承办人（低者在前）", capped([f"· {name}：{rates_line(r)}" for name, r in d.by_assignee]) or ["无"]),
    ]
    if d.lowest:
        out.append(("评价较低的办结", capped([ticket(x, f"｜{x.answer}") for x in visible(d.lowest)]) or ["无"]))
    if principal:
        out.append(("涉及教职工的投诉（仅校长可见）", listed(d.staff_complaints) or ["无"]))
    if d.surveys:
        lines = d.surveys if principal else d.surveys_restricted
        out.append(("满意度测评进行中", [f"· {line}" for line in lines]))
    if d.praise:
        out.append(("收到表扬", capped([f"· {name}：{text[:30]}" for name, text in d.praise])))
    r, m = d.reception_today, d.reception_month
    if m.parents or d.referred_today or d.referred_open:
        out.append(("校长接待日与属地转办", [
            f"接待：今日 {r.sessions} 场、家长 {r.parents} 人、反映事项转工单 {r.matters} 件；"
            f"本月 {m.sessions} 场、{m.parents} 人、{m.matters} 件",
            f"转属地：今日 {d.referred_today} 件；待属地反馈 {d.referred_open} 件（单独统计，不计入逾期）"]))
    out.append(("本月家访覆盖（按班级）", capped([f"· {c.class_name} {c.contacted}/{c.students}（{c.rate:.0%}）"
                                          for c in d.coverage]) or ["暂无学生"]))
    return out


def title(d: Digest) -> str:
    """Return the digest's title."""
    return f"{d.school} 每日简报 {d.date:%m月%d日}"


def render_text(d: Digest, principal: bool = True, with_title: bool = True) -> str:
    """Return the digest as plain text for a phone screen.

    ``with_title=False`` when the title travels as the message's own title (the channels show it on top).
    """
    parts = [f"【{title(d)}】"] if with_title else []
    for heading, lines in sections(d, principal):
        parts.append(f"\n■ {heading}")
        parts.extend(lines)
    return "\n".join(parts)


def render_markdown(d: Digest, principal: bool = True) -> str:
    """Return the digest as markdown (DingTalk / WeCom render it)."""
    parts = [f"### {title(d)}"]
    for heading, lines in sections(d, principal):
        parts.append(f"\n**{heading}**\n")
        parts.extend(line if line.startswith("·") else f"- {line}" for line in lines)
    return "\n".join(parts).replace("\n·", "\n-")
