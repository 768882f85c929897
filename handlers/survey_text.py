"""How survey results read in chat (aggregates only: never who answered what)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from models.survey_results import GroupResult, SurveyResults, percent
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


def format_results(results: SurveyResults, own: set[int] | None, tz: str) -> str:
    """Return the chat text of ``测评结果``: the school for leaders, ``own`` classes only otherwise."""
    survey = results.survey
    deadline = survey.deadline.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d")
    title = f"满意度测评 {survey.id}（{survey.scope_label}，截止 {deadline}）"
    previous = results.previous
    if own is not None:
        lines = [title]
        before = dict(previous.classes) if previous is not None else {}
        for class_id, group in results.classes:
            if class_id in own:
                lines += ["", f"{group.name}（本班汇总，不含个人答卷）", _head(group, before.get(class_id)),
                          *_indicator_lines(group, before.get(class_id))]
        return "\n".join(lines)
    lines = [title, _head(results.school, previous.school if previous else None), "各项满意率：",
             *_indicator_lines(results.school, previous.school if previous else None)]
    if len(results.grades) > 1:
        lines.append("各年级：" + "；".join(f"{g.name} {percent(g.overall.rate)}" for g in results.grades))
    lines.append("班级排名（综合满意率）：")
    for rank, (_, group) in enumerate(results.ranking, 1):
        lines.append(f"{rank}. {group.name} {percent(group.overall.rate)}"
                     f"（回收 {group.responded}/{group.families}）")
    lines.append("满意率 =（满意+基本满意）/（满意+基本满意+不满意），不了解不计入。")
    return "\n".join(lines)
