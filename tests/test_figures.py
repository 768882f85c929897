"""One definition of 响应率, 按期办结率 and 满意率, used by the digest, the 周调度 and the exports (issue 16, item 5)."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy import select

from models import figures, ticket_notify, ticket_service
from models.digest import build_digest
from models.digest_render import render_text
from models.exports import write_export
from models.outbox import OutboxMessage
from models.weekly import send_weekly_report
from tests.scheduler_helpers import bound_school, open_ticket

TZ = "Asia/Shanghai"
BJ = ZoneInfo(TZ)
H = dt.timedelta(hours=1)


def bj(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=BJ).astimezone(dt.UTC)


def _answer(session, ticket, staff, *, accepted, resolved, answered, answer):
    ticket_service.accept(session, ticket, staff, accepted)
    ticket_service.resolve(session, ticket, staff, "已处理", resolved)
    ticket_notify.ask_callback(session, ticket, resolved, ttl=dt.timedelta(days=3), enqueue=False)
    ticket_service.record_callback_answer(session, ticket, answer, ticket.identity_id, answered)


@pytest.fixture
def ledger(ext, db_session, now):
    """Four tickets opened Monday 2026-11-23 10:00 with known steps."""
    ts, bot = bound_school(ext, db_session, now)
    wang = ts.staff["王芳"]
    t1 = open_ticket(db_session, ts, bot, bj(23, 10), text="饭菜凉")  # respond by Tue 10:00, resolve by Thu 10:00
    t2 = open_ticket(db_session, ts, bot, bj(23, 10), text="有人打架", category="safety", urgency="urgent")
    t3 = open_ticket(db_session, ts, bot, bj(23, 10), text="作业多", category="homework")
    t4 = open_ticket(db_session, ts, bot, bj(23, 10), text="厕所脏", category="facilities")
    _answer(db_session, t1, wang, accepted=bj(23, 11), resolved=bj(24, 10), answered=bj(24, 12), answer="satisfied")
    # Urgent: respond by 11:00, resolve by Tue 10:00 — both late, and the parent is not satisfied (重办).
    _answer(db_session, t2, wang, accepted=bj(23, 12), resolved=bj(24, 12), answered=bj(24, 13), answer="unsatisfied")
    _answer(db_session, t4, wang, accepted=bj(23, 10, 30), resolved=bj(23, 15), answered=bj(23, 16), answer="basic")
    db_session.commit()
    return ts, bot, (t1, t2, t3, t4)


def test_each_figure_from_a_known_ledger(db_session, ledger):
    ts, _, _ = ledger
    period = figures.Period.month_to(bj(25, 10), TZ)
    f = figures.school_figures(db_session, ts.school.id, period)
    # Respond: all four due by Wednesday (t3 never answered, t2 late) → 2 of 4.
    assert (f.responded_in_time, f.respond_due, f.response_rate) == (2, 4, 0.5)
    # Resolve: t1, t4 in time; t2's deadline passed and its resolution was reopened; t3 not due until Thursday.
    assert (f.resolved_in_time, f.resolve_due) == (2, 3)
    assert f.on_time_rate == pytest.approx(2 / 3)
    # 满意率 = (满意 + 基本满意) / (满意 + 基本满意 + 不满意).
    assert (f.satisfied, f.basic, f.unsatisfied) == (1, 1, 1)
    assert f.satisfaction_rate == pytest.approx(2 / 3)
    # As of Monday 17:00 only Monday's steps count: t2's respond-by passed, t4 answered.
    monday = figures.school_figures(db_session, ts.school.id, figures.Period.month_to(bj(23, 17), TZ))
    assert (monday.responded_in_time, monday.respond_due) == (2, 3)
    assert (monday.satisfied, monday.basic, monday.unsatisfied) == (0, 1, 0)
    by = figures.assignee_figures(db_session, ts.school.id, period)
    assert by["王芳"].respond_due == 4 and by["王芳"].unsatisfied == 1


def test_digest_and_weekly_report_say_the_same_on_the_same_day(ext, db_session, now):
    ts, bot = bound_school(ext, db_session, now)
    thursday = bj(26, 17, 30)
    # Answered in time this morning, and an urgent one from 17:00 whose hour to respond is not up yet.
    early = open_ticket(db_session, ts, bot, bj(26, 9), text="饭菜凉")
    ticket_service.accept(db_session, early, ts.staff["王芳"], bj(26, 9, 30))
    open_ticket(db_session, ts, bot, bj(26, 17), text="孩子被打", category="safety", urgency="urgent")
    db_session.commit()
    digest = render_text(build_digest(db_session, ext.settings, ts.school, dt.date(2026, 11, 26), now=thursday))
    send_weekly_report(db_session, ext.settings, ts.school, "2026-W48", thursday)
    weekly = "\n".join(db_session.scalars(select(OutboxMessage.text).where(OutboxMessage.title == "周调度")))
    rate = re.compile(r"响应率 ?(\S+?%)")
    assert rate.search(digest.split("本月累计")[1]).group(1) == rate.search(weekly).group(1) == "100%"


def test_the_ledger_export_carries_the_same_figures(ext, db_session, ledger, tmp_path):
    ts, _, _ = ledger
    path = tmp_path / "ledger.xlsx"
    write_export(db_session, "ledger", ts.school, path, tz=TZ, start=bj(1, 0), end=bj(26, 0), now=bj(25, 10))
    sheet = openpyxl.load_workbook(path)["统计指标"]
    values = {row[0].value: row[1].value for row in sheet.iter_rows(min_row=3) if row[0].value}
    expected = figures.school_figures(db_session, ts.school.id, figures.Period(bj(1, 0), bj(25, 10)))
    assert values["响应率"] == pytest.approx(expected.response_rate) == 0.5
    assert values["按期办结率"] == pytest.approx(expected.on_time_rate)
    assert values["满意率"] == pytest.approx(expected.satisfaction_rate)


def test_weekly_figures_equal_one_school_figures_call_per_week(ext, db_session, now):
    """The console's trend (three grouped queries) gives exactly what ``school_figures`` gives week by week."""
    import dataclasses as dc

    from models.console_overview import weeks

    fig = figures

    ts, bot = bound_school(ext, db_session, now - dt.timedelta(days=40))
    for n in range(12):
        when = now - dt.timedelta(days=3 * n, hours=n)
        t = open_ticket(db_session, ts, bot, when, text=f"问题{n}", category="food")
        if n % 2:
            ticket_service.resolve(db_session, t, ts.staff["王芳"], "已处理", when + dt.timedelta(hours=20 * n))
            if n % 3:
                ticket_service.record_callback_answer(db_session, t, ("satisfied", "unsatisfied")[n % 2 == 1 and n > 6],
                                                      None, when + dt.timedelta(days=1))
    db_session.flush()
    span = [w.period for w in weeks(now, "Asia/Shanghai")]
    grouped = fig.weekly_figures(db_session, ts.school.id, span, now)
    single = [fig.school_figures(db_session, ts.school.id, p, as_of=now) for p in span]
    assert [dc.asdict(f) for f in grouped] == [dc.asdict(f) for f in single]
    assert sum(f.respond_due for f in grouped) > 0 and sum(f.satisfied + f.unsatisfied for f in grouped) > 0
