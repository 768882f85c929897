"""满意度测评: launching, answering in chat (resume, change, deadline), the web form, results, anonymity."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from models import survey_results, surveys
from models.scope import Scope
from models.surveys import SurveyResponse
from models.tickets import Ticket
from tests.kit import SimBot

PARENTS = ("张小明妈妈", "王小虎奶奶", "陈大宝妈妈", "赵小龙奶奶")
CODES = surveys.INDICATOR_CODES


@pytest.fixture
def bot(ext, db_session, school):
    bot = SimBot(ext, db_session)
    for who in ("赵校长", "王芳", *PARENTS):
        assert any("绑定成功" in r for r in bot.bind(who)), who
    return bot


def _launch(bot: SimBot, scope: str = "全校", deadline: str = "2026-11-30") -> int:
    reply = "\n".join(bot.say("赵校长", f"发起测评 {scope} {deadline}"))
    number = re.search(r"编号 (\d+)", reply)
    assert number, reply
    bot.deliver()
    return int(number.group(1))


def test_launch_sends_each_bound_family_a_link(bot):
    reply = "\n".join(bot.say("赵校长", "发起测评 全校 2026-11-30"))
    assert "已向 5 位已绑定家长发送" in reply  # 陈大宝妈妈 gets one per child
    bot.deliver()
    text = "\n".join(bot.pop("陈大宝妈妈"))
    assert len(re.findall(r"/s/\S+", text)) == 2 and "回复「测评」" in text


def test_only_leaders_launch(bot):
    assert any("没有使用「发起测评」的权限" in r for r in bot.say("王芳", "发起测评 一年级一班 2026-11-30"))
    assert any("没有使用「发起测评」的权限" in r for r in bot.say("张小明妈妈", "发起测评 全校 2026-11-30"))
    assert any("截止日期已过" in r for r in bot.say("赵校长", "发起测评 全校 2026-11-01"))


def test_chat_flow_resume_change_and_one_response_per_family(bot, db_session):
    number = _launch(bot)
    assert any("第 1/6 题" in r and "整体办学水平" in r for r in bot.say("张小明妈妈", "测评"))
    assert any("第 2/6 题" in r for r in bot.say("张小明妈妈", "1"))
    assert any("第 3/6 题" in r for r in bot.say("张小明妈妈", "满意"))
    # Interrupted by a real question: it is not taken as an answer ...
    bot.say("张小明妈妈", "老师，明天几点放学？")
    # ... and 测评 resumes where she left off.
    assert any("第 3/6 题" in r and "教学工作" in r for r in bot.say("张小明妈妈", "测评"))
    for answer, following in (("2", "第 4/6 题"), ("3", "第 5/6 题"), ("4", "第 6/6 题"), ("1", "意见或建议")):
        assert any(following in r for r in bot.say("张小明妈妈", answer)), following
    summary = "\n".join(bot.say("张小明妈妈", "无"))
    assert "整体办学水平：满意" in summary and "学生课业负担：不满意" in summary and "学习生活条件及服务：不了解" in summary
    # Change one answer: 测评 1 asks only question 1, showing the current answer.
    assert any("（当前：满意）" in r for r in bot.say("张小明妈妈", "测评 1"))
    assert any("整体办学水平：不满意" in r for r in bot.say("张小明妈妈", "3"))
    # The father answers for the same family: still one response.
    bot.bind("张小明爸爸")
    bot.say("张小明爸爸", "测评 2")
    bot.say("张小明爸爸", "基本满意")
    rows = db_session.scalars(select(SurveyResponse).where(SurveyResponse.survey_id == number)).all()
    assert len(rows) == 1
    assert rows[0].answers == {"overall": 3, "ethics": 2, "teaching": 2, "workload": 3, "conditions": 4,
                               "safety": 1}


def test_deadline_closes_answers(bot, db_session, school, now):
    number = _launch(bot, deadline="2026-11-24")
    bot.say("王小虎奶奶", "测评")
    after = dt.datetime(2026, 11, 24, 16, 0, 1, tzinfo=dt.UTC)  # 2026-11-25 00:00:01 in Beijing
    bot.say("王小虎奶奶", "1", now=after)
    assert db_session.scalar(select(func.count(SurveyResponse.id)).where(SurveyResponse.survey_id == number)) == 0
    assert any("没有进行中" in r for r in bot.say("王小虎奶奶", "测评", now=after))
    survey = surveys.get_survey(db_session, number)
    with pytest.raises(surveys.SurveyError, match="已截止"):
        surveys.save_answers(db_session, survey, school.students["王小虎"], {"overall": 1}, via="web", now=after)


def test_actionable_comment_becomes_an_anonymous_ticket(bot, db_session):
    _launch(bot)
    bot.say("陈大宝妈妈", "测评")
    for _ in CODES:
        bot.say("陈大宝妈妈", "2")
    bot.say("陈大宝妈妈", "作业太多了，孩子每天写到晚上十一点，希望减负")
    ticket = db_session.scalar(select(Ticket).where(Ticket.text.like("【满意度测评意见】%")))
    assert ticket is not None and "作业太多" in ticket.text
    assert ticket.identity_id is None and ticket.student_id is None, "anonymous by default"


def _answer(db_session, survey, student, values, now):
    surveys.save_answers(db_session, survey, student, dict(zip(CODES, values, strict=False)), via="web", now=now)


def test_results_match_hand_computed_figures(db_session, school, ext, now):
    st, boss = school.students, school.staff["赵校长"]
    all_classes = Scope("全校", tuple(c.id for c in school.classes.values()))
    old, _ = surveys.launch_survey(db_session, author=boss, scope=all_classes, deadline=now + dt.timedelta(hours=1),
                                   settings=ext.settings, now=now)
    _answer(db_session, old, st["陈二宝"], [3] * 6, now)
    survey, _ = surveys.launch_survey(db_session, author=boss, scope=all_classes,
                                      deadline=now + dt.timedelta(days=7), settings=ext.settings, now=now)
    _answer(db_session, survey, st["张小明"], [1, 1, 2, 3, 4, 1], now)
    _answer(db_session, survey, st["陈大宝"], [2, 2, 2, 2, 2, 2], now)
    _answer(db_session, survey, st["王小虎"], [3, 4, 4, 4, 4, 1], now)
    _answer(db_session, survey, st["陈二宝"], [1, 1, 1, 1, 1, 1], now)
    _answer(db_session, survey, st["赵小龙"], [1, 3], now)  # incomplete: not counted
    results = survey_results.compute_results(db_session, survey)
    school_result = results.school
    assert (school_result.responded, school_result.families) == (4, 5)
    ind = school_result.indicators
    assert ind["overall"] == survey_results.Tally(2, 1, 1, 0) and ind["overall"].rate == pytest.approx(3 / 4)
    assert ind["ethics"] == survey_results.Tally(2, 1, 0, 1) and ind["ethics"].rate == 1.0
    assert ind["workload"] == survey_results.Tally(1, 1, 1, 1) and ind["workload"].rate == pytest.approx(2 / 3)
    assert ind["conditions"] == survey_results.Tally(1, 1, 0, 2) and ind["conditions"].rate == 1.0
    assert school_result.overall == survey_results.Tally(10, 7, 2, 5)
    assert school_result.overall.rate == pytest.approx(17 / 19)
    classes = dict(results.classes)
    c1, c2 = school.classes["一年级一班"].id, school.classes["一年级二班"].id
    assert classes[c1].overall == survey_results.Tally(4, 7, 2, 5) and classes[c1].overall.rate == pytest.approx(11 / 13)
    assert (classes[c2].responded, classes[c2].families, classes[c2].overall.rate) == (1, 2, 1.0)
    assert [g.name for _, g in results.ranking] == ["一年级二班", "一年级一班"]
    assert results.previous is not None and results.previous.school.overall.rate == 0.0
    assert survey_results.Tally(0, 0, 0, 3).rate is None, "only 不了解: no rate, not zero"


def test_results_in_chat_leader_and_teacher_anonymity(bot, db_session, school, now):
    number = _launch(bot)
    survey = surveys.get_survey(db_session, number)
    _answer(db_session, survey, school.students["张小明"], [1, 1, 2, 3, 4, 1], now)
    _answer(db_session, survey, school.students["陈二宝"], [1, 1, 1, 1, 1, 1], now)
    db_session.commit()
    leader = "\n".join(bot.say("赵校长", f"测评结果 {number}"))
    assert "回收 2/5 户（40.0%）" in leader and "整体办学水平 100.0%" in leader
    assert "学生课业负担 50.0%" in leader and "班级排名" in leader
    assert leader.index("1. 一年级二班 100.0%") < leader.index("2. 一年级一班 80.0%")
    teacher = "\n".join(bot.say("王芳", f"测评结果 {number}"))
    assert "一年级一班（本班汇总，不含个人答卷）" in teacher and "回收 1/3 户" in teacher
    assert "一年级二班" not in teacher and "张小明" not in teacher and "班级排名" not in teacher
    assert any("没有使用「测评结果」的权限" in r for r in bot.say("张小明妈妈", f"测评结果 {number}"))


def test_web_form_prefills_validates_and_changes(bot, client, db_session, ext, now):
    number = _launch(bot)
    path = re.search(r"http://[^/]+(/s/\S+)", "\n".join(bot.pop("王小虎奶奶"))).group(1)
    page = client.get(path).get_data(as_text=True)
    assert "王小虎家长" in page and all(name in page for _, name in surveys.INDICATORS)
    partial = client.post(path, data={"q_overall": "1"})
    assert partial.status_code == 400 and "请完成" in partial.get_data(as_text=True)
    form = {f"q_{code}": "2" for code in CODES} | {"comment": "谢谢老师们"}
    assert "已提交" in client.post(path, data=form).get_data(as_text=True)
    assert 'value="2" checked' in client.get(path).get_data(as_text=True)
    client.post(path, data=form | {"q_safety": "3"})
    row = db_session.scalar(select(SurveyResponse).where(SurveyResponse.survey_id == number))
    db_session.refresh(row)
    assert row.answers["safety"] == 3 and row.via == "web" and row.comment == "谢谢老师们"
    ext.clock = lambda: dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    closed = client.get(path).get_data(as_text=True)
    assert "已截止" in closed and "<form" not in closed
    assert client.get(path.replace("/s/", "/n/")).status_code == 403, "a survey token is not a notice token"


def test_a_possible_danger_in_a_comment_goes_to_the_safety_review(bot, db_session):
    """An anonymous comment hinting at danger is reviewed at once (疑似紧急), like a message (issue 11)."""
    from models.outbox import OutboxMessage

    _launch(bot)
    bot.say("陈大宝妈妈", "测评")
    for _ in CODES:
        bot.say("陈大宝妈妈", "2")
    bot.say("陈大宝妈妈", "校车最近刹车有异响")
    ticket = db_session.scalar(select(Ticket).where(Ticket.text.like("【满意度测评意见】%")))
    assert ticket is not None and ticket.needs_review and ticket.urgency != "urgent", ticket
    assert db_session.scalars(select(OutboxMessage.id).where(
        OutboxMessage.text.contains(f"确认紧急 {ticket.number}"))).all(), "a reviewer is asked"
