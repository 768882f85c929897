"""Survey breakdowns with fewer than surveys.min_breakdown responses are hidden from all but the principal (item 10)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import openpyxl
import pytest

from models import surveys
from models.digest import build_digest
from models.digest_render import render_text
from models.exports import create_download, export_dir
from tests.kit import SimBot

CODES = surveys.INDICATOR_CODES


@pytest.fixture
def survey(ext, db_session, school, now):
    bot = SimBot(ext, db_session)
    for who in ("赵校长", "钱主任", "王芳", "张小明妈妈"):
        bot.bind(who)
    reply = "\n".join(bot.say("赵校长", "发起测评 全校 2026-11-30"))
    survey = surveys.get_survey(db_session, int(re.search(r"编号 (\d+)", reply).group(1)))
    for name, values in (("张小明", [1, 1, 2, 3, 4, 1]), ("陈二宝", [3, 3, 3, 3, 3, 3])):
        surveys.save_answers(db_session, survey, school.students[name], dict(zip(CODES, values, strict=True)),
                             via="web", now=now)
    db_session.commit()
    return bot, survey


def test_a_teacher_sees_no_breakdown_of_two_responses_and_is_told_why(survey):
    bot, s = survey
    teacher = "\n".join(bot.say("王芳", f"测评结果 {s.id}"))
    assert "回收 1/3 户" in teacher and "不足 5 份" in teacher and "匿名" in teacher
    after = teacher.split("回收 1/3 户")[1]
    assert "满意率" not in after and "不满意" not in after and "整体办学水平" not in after


def test_a_director_sees_no_small_group_either(survey):
    bot, s = survey
    director = "\n".join(bot.say("钱主任", f"测评结果 {s.id}"))
    assert "回收 2/5 户" in director and "不足 5 份" in director
    assert "整体办学水平" not in director and "一年级二班 0.0%" not in director


def test_the_principal_sees_everything(survey):
    bot, s = survey
    principal = "\n".join(bot.say("赵校长", f"测评结果 {s.id}"))
    assert "整体办学水平 50.0%" in principal and "1. 一年级一班" in principal and "不足 5 份" not in principal


def test_the_threshold_is_a_setting(ext, survey):
    bot, s = survey
    ext.settings = dataclasses.replace(ext.settings, surveys=dataclasses.replace(ext.settings.surveys,
                                                                                  min_breakdown=1))
    teacher = "\n".join(bot.say("王芳", f"测评结果 {s.id}"))
    assert "整体办学水平 100.0%" in teacher


def test_digest_and_export_hide_small_groups_from_directors(ext, db_session, school, survey, now):
    bot, s = survey
    d = build_digest(db_session, ext.settings, school.school, dt.date(2026, 11, 23), now=now + dt.timedelta(hours=1))
    director, principal = render_text(d, principal=False), render_text(d, principal=True)
    assert f"满意度测评 {s.id}" in director and "不足 5 份" in director
    assert not re.search(r"满意度测评 \d+.*满意率 \d", director)
    assert re.search(r"满意度测评 \d+.*满意率 \d", principal)
    record, _ = create_download(db_session, school.staff["钱主任"], "survey", ext.settings, now)
    wb = openpyxl.load_workbook(export_dir(ext.settings) / record.filename)
    school_rows = [[c.value for c in row] for row in wb.active.iter_rows(min_row=3)]
    assert all(isinstance(v, str) for r in school_rows if r[0] != "回收率" for v in r[1:6]), "no counts of 2 responses"
    ranking = [[c.value for c in row] for row in wb["班级排名"].iter_rows(min_row=3)]
    assert all(isinstance(v, str) for r in ranking for v in r[5:]), "nor of a class of 1"
    record, _ = create_download(db_session, school.staff["赵校长"], "survey", ext.settings, now)
    full = openpyxl.load_workbook(export_dir(ext.settings) / record.filename)
    assert any(isinstance(r[5].value, float) for r in full.active.iter_rows(min_row=3))
