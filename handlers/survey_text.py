"""How survey results read in chat (aggregates only: never who answered what)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from models.survey_results import GroupResult, SurveyResults, hidden_note, percent, too_few
from models.surveys import INDICATORS


def _delta(now: float | None, before: float | None) -> str:
    if now is None or before is None:
        return ""
    return f"（上次 {percent(before)}，{(now - before) * 100:+.1f}）"


def _indicator_lines(group: GroupResult, previous: GroupResult | None) -> list[str]:
    lines = []
    for code, name in INDICATORS:
        t = group.indicators[code]
        before = previous.indicators[code].rate if previous is not None else None
        lines.append(f"{name} {percent(t.rate)}{_delta(t.rate, before)}"
                     f"：满意 {t.satisfied}，基本满意 {t.basic}，不满意 {t.unsatisfied}，不了解 {t.unknown}")
    return lines


def _head(group: GroupResult, previous: GroupResult | None) -> str:
    before = previous.overall.rate if previous is not None else None
    return (f"回收 {group.responded}/{group.families} 户（{percent(group.response_rate)}）；"
            f"综合满意率 {percent(group.overall.rate)}{_delta(group.overall.rate, before)}")


def format_results(results: SurveyResults, own: set[int] | None, tz: str, min_responses: int = 0) -> str:
    """Return the chat text of ``测评结果``: the school for leaders, ``own`` classes only otherwise.

    A class, grade or the school with fewer than ``min_responses`` complete
    responses shows only how many came back, and why nothing more: with two
    answers a per-class count gives away who said what. The principal's view
    passes 0.
    """
    survey = results.survey
    deadline = survey.deadline.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d")
    title = f"满意度测评 {survey.id}（{survey.scope_label}，截止 {deadline}）"
    previous = results.previous
    hidden = hidden_note(min_responses)
    if own is not None:
        lines = [title]
        before = dict(previous.classes) if previous is not None else {}
        for class_id, group in results.classes:
            if class_id not in own:
                continue
            lines += ["", f"{group.name}（本班汇总，不含个人答卷）"]
            if too_few(group, min_responses):
                lines.append(f"回收 {group.responded}/{group.families} 户（{percent(group.response_rate)}）；{hidden}。")
            else:
                lines += [_head(group, before.get(class_id)), *_indicator_lines(group, before.get(class_id))]
        return "\n".join(lines)
    school = results.school
    if too_few(school, min_responses):
        return "\n".join([title, f"回收 {school.responded}/{school.families} 户（{percent(school.response_rate)}）；"
                                 f"{hidden}（各年级、各班同样）。校长可查看全部结果。"])
    lines = [title, _head(school, previous.school if previous else None), "各项满意率：",
             *_indicator_lines(school, previous.school if previous else None)]
    if len(results.grades) > 1:
        lines.append("各年级：" + "；".join(f"{g.name} {_rate_or_hidden(g, min_responses)}" for g in results.grades))
    lines.append("班级排名（综合满意率）：")
    shown = [(cid, g) for cid, g in results.ranking if not too_few(g, min_responses)]
    for rank, (_, group) in enumerate(shown, 1):
        lines.append(f"{rank}. {group.name} {percent(group.overall.rate)}"
                     f"（回收 {group.responded}/{group.families}）")
    few = [g.name for _, g in results.classes if too_few(g, min_responses)]
    if few:
        lines.append(f"未列入排名（{hidden}）：{'、'.join(few)}")
    lines.append("满意率 =（满意+基本满意）/（满意+基本满意+不满意），不了解不计入。")
    return "\n".join(lines)


def _rate_or_hidden(group: GroupResult, min_responses: int) -> str:
    return f"不足 {min_responses} 份" if too_few(group, min_responses) else percent(group.overall.rate)
