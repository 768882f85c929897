"""家校通讯录 sync: read from a fake WeCom, applied like a roster import, parents bound without a command."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.platforms.wecom_app.contacts import read_wecom
from models.directory import Guardian, Student
from models.identity import Identity
from models.outbox import OutboxMessage, linked_address
from tests import payloads as p
from tests.fakes.fixtures import fake_wecom, queue  # noqa: F401 - fixture

APP = f"/wecom/{p.SCHOOL}/app"


@pytest.fixture
def settings_overrides(settings_overrides, fake_wecom):  # noqa: F811
    creds = {p.SCHOOL: {**p.CREDENTIALS[p.SCHOOL],
                        "wecom": {**p.CREDENTIALS[p.SCHOOL]["wecom"], "school_notice": True}}}
    return {**settings_overrides, "platforms": creds,
            "platform_api": {"wecom_api": f"{fake_wecom.url}/cgi-bin/", "timeout_seconds": 1}}


def parent(pid: str, relation: str, mobile: str, external: str | None = None) -> dict:
    found = {"parent_userid": pid, "relation": relation, "mobile": mobile, "is_subscribe": 1}
    if external:
        found["external_userid"] = external
    return found


@pytest.fixture
def directory(fake_wecom):  # noqa: F811
    """测试小学's 家校通讯录 as WeCom returns it: 王小虎 is no longer in it."""
    fake_wecom.school_departments[:] = [
        {"id": 1, "name": "测试小学", "parentid": 0, "type": 5},
        {"id": 2, "name": "一年级", "parentid": 1, "type": 2, "standard_grade": 1},
        {"id": 3, "name": "一班", "parentid": 2, "type": 1},
        {"id": 4, "name": "一年级二班", "parentid": 2, "type": 1},
    ]
    fake_wecom.school_students.update({
        3: [{"student_userid": "s-zxm", "name": "张小明", "department": [3],
             "parents": [parent("p-mom", "妈妈", "13800001234", "wmMOM"), parent("p-dad", "爸爸", "13900005678")]},
            {"student_userid": "s-cdb", "name": "陈大宝", "department": [3],
             "parents": [parent("p-chen", "母亲", "13600002222", "wmCHEN")]},
            {"student_userid": "s-new", "name": "林小雨", "department": [3],
             "parents": [parent("p-lin", "伯母", "137 0000 9999")]}],
        4: [{"student_userid": "s-ceb", "name": "陈二宝", "department": [4],
             "parents": [parent("p-chen", "妈妈", "13600002222", "wmCHEN")]},
            {"student_userid": "s-zxl", "name": "赵小龙", "department": [4],
             "parents": [parent("p-zhao", "奶奶", "13700001111")]}],
    })
    return fake_wecom


def identity(session, platform: str, external_id: str) -> Identity | None:
    return session.scalar(select(Identity).where(Identity.platform == platform, Identity.external_id == external_id))


def test_sync_applies_the_directory_like_a_roster_import_and_binds_its_parents(runner, school, db_session, directory):
    result = runner.invoke(args=["roster", "sync", "wecom", "--school", p.SCHOOL])
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith("家校通讯录同步完成") and "离校/停用 1" in out and "家长免绑定：5 位家长" in out
    db_session.expire_all()
    tiger = db_session.scalar(select(Student).where(Student.name == "王小虎"))
    assert tiger is not None and not tiger.active, "missing from the directory: marked left, never deleted"
    dabao = db_session.scalar(select(Student).where(Student.name == "陈大宝"))
    assert dabao.care_names == ["留守"], "the directory has no 特殊关爱: the school's flags are kept"
    rain = db_session.scalar(select(Student).where(Student.name == "林小雨"))
    assert rain.school_class.name == "一年级一班", "a class named 一班 under 一年级 is the roster's 一年级一班"
    assert "伯母" in out and rain.guardianships[0].relation == "家长", "an unknown relation is kept as 家长, with a note"
    # Guardians already on file keep their names and pairs; the new family's parent is named after the child.
    assert {g.name for g in db_session.scalars(select(Guardian))} >= {"李娟", "张伟", "刘芳", "林小雨家长"}
    mom = identity(db_session, "wecom_school", "p-mom")
    assert [gs.guardian.name for gs in mom.guardianships] == ["李娟"]
    chen = identity(db_session, "wecom_school", "p-chen")
    assert sorted(gs.student.name for gs in chen.guardianships) == ["陈二宝", "陈大宝"], "one parent, two children"
    kf = identity(db_session, "wecom_kf", "wmMOM")
    assert kf is not None and [gs.student.name for gs in kf.guardianships] == ["张小明"]
    assert linked_address(db_session, kf.id, "wecom_school") == "p-mom", "学校通知 can now reach the kf parent"
    assert identity(db_session, "wecom_kf", "p-dad") is None


def test_a_second_sync_changes_nothing(runner, school, db_session, directory):
    runner.invoke(args=["roster", "sync", "wecom", "--school", p.SCHOOL])
    again = runner.invoke(args=["roster", "sync", "wecom", "--school", p.SCHOOL])
    assert again.exit_code == 0 and "新增绑定 0，解除 0" in again.output and "新建" not in again.output


def test_a_parent_the_directory_drops_loses_the_binding_it_gave(runner, school, db_session, directory):
    runner.invoke(args=["roster", "sync", "wecom", "--school", p.SCHOOL])
    directory.school_students[3][0]["parents"].pop()  # 张小明's father leaves the directory
    out = runner.invoke(args=["roster", "sync", "wecom", "--school", p.SCHOOL]).output
    assert "张伟" in out and "已解除其绑定" in out
    db_session.expire_all()
    assert identity(db_session, "wecom_school", "p-dad").guardianships == []


def test_a_bad_entry_refuses_the_whole_sync_naming_the_entry(runner, school, db_session, directory):
    directory.school_students[4][1]["parents"][0]["mobile"] = "1370000"
    result = runner.invoke(args=["roster", "sync", "wecom", "--school", p.SCHOOL])
    assert result.exit_code == 1
    assert "未做任何修改" in result.output and "一年级二班「赵小龙」的家长 p-zhao" in result.output
    db_session.expire_all()
    assert db_session.scalar(select(Student).where(Student.name == "王小虎")).active
    assert identity(db_session, "wecom_school", "p-mom") is None


def test_a_refused_api_call_says_which_console_setting_to_change(runner, school, db_session, directory):
    directory.fail_next(errcode=48002, path="school/department/list")
    result = runner.invoke(args=["roster", "sync", "wecom", "--school", p.SCHOOL])
    assert result.exit_code == 1 and "48002" in result.output and "家校沟通 → API" in result.output


def test_an_empty_directory_changes_nothing(runner, school, db_session, fake_wecom):  # noqa: F811
    result = runner.invoke(args=["roster", "sync", "wecom", "--school", p.SCHOOL])
    assert result.exit_code == 1 and "没有读到任何学生" in result.output
    db_session.expire_all()
    assert all(s.active for s in db_session.scalars(select(Student)))


def test_dingtalk_says_why_its_directory_cannot_be_synced(runner, school):
    result = runner.invoke(args=["roster", "sync", "dingtalk", "--school", p.SCHOOL])
    assert result.exit_code == 1 and "不返回手机号" in result.output and "roster import" in result.output


def contact_event(now: dt.datetime, change: str = "update_student", user: str = "s-zxm") -> str:
    return p.wecom_xml({"ToUserName": p.CORP_ID, "FromUserName": "sys", "CreateTime": int(now.timestamp()),
                        "MsgType": "event", "Event": "change_school_contact", "ChangeType": change, "Id": user})


def test_a_change_event_is_answered_first_and_synced_after_the_answer_once(client, school, db_session, now,
                                                                            directory):
    event = contact_event(now)
    resp = client.post(APP, buffered=False, **p.wecom_post(event, now))
    assert (resp.status_code, resp.data) == (200, b"")
    assert directory.sent("school/department/list") == [], "the directory is read after the answer"
    resp.close()
    assert len(directory.sent("school/department/list")) == 1
    db_session.expire_all()
    assert identity(db_session, "wecom_school", "p-mom") is not None
    again = client.post(APP, **p.wecom_post(event, now))  # WeCom's retry of the same event
    assert again.status_code == 200 and len(directory.sent("school/department/list")) == 1
    later = client.post(APP, **p.wecom_post(contact_event(now, "create_parent", "p-new"), now))
    assert later.status_code == 200 and len(directory.sent("school/department/list")) == 2


def test_school_notice_reaches_a_kf_parent_after_the_sync(runner, school, db_session, ext, now, directory):
    runner.invoke(args=["roster", "sync", "wecom", "--school", p.SCHOOL])
    db_session.expire_all()
    kf = identity(db_session, "wecom_kf", "wmMOM")
    directory.fail_next(errcode=95001, path="kf/send_msg")  # the 48-hour window is closed
    row_id = queue(db_session, now, "wecom_kf", "wmMOM", "明天放假一天", school_id=kf.school_id, identity_id=kf.id,
                   context={"open_kfid": p.OPEN_KFID})
    ext.sender.send_ids(db_session, [row_id], now)
    db_session.commit()
    [notice] = directory.sent("externalcontact/message/send")
    assert notice.json["to_parent_userid"] == ["p-mom"] and "明天放假一天" in notice.json["text"]["content"]
    assert db_session.get(OutboxMessage, row_id).status == "sent"


# -- the reader is a parser of platform JSON: it must survive anything --------------------------

departments = st.lists(st.fixed_dictionaries({
    "id": st.integers(0, 8), "parentid": st.integers(0, 8), "type": st.one_of(st.integers(0, 6), st.none()),
    "name": st.text(max_size=6)}), max_size=10)
students = st.lists(st.fixed_dictionaries({
    "student_userid": st.text(max_size=4), "name": st.text(max_size=4),
    "parents": st.lists(st.fixed_dictionaries({"parent_userid": st.text(max_size=3), "relation": st.text(max_size=3),
                                               "mobile": st.text(max_size=12)}), max_size=3)}), max_size=4)


class DictClient:
    def __init__(self, depts, studs):
        self.depts, self.studs = depts, studs

    def call_get(self, endpoint, **params):
        return {"departments": self.depts} if endpoint.endswith("department/list") else {"students": self.studs}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(departments, students)
def test_the_directory_reader_survives_any_tree_and_names_every_class(depts, studs):
    directory = read_wecom(DictClient(depts, studs))
    for student in directory.students:
        assert student.student_id and student.name and student.parents
        assert student.class_name == student.class_name.strip() or student.grade
    assert len({s.student_id for s in directory.students}) == len(directory.students)


def test_a_failed_read_after_an_event_is_repeated_by_the_scheduler(client, school, db_session, ext, now, directory):
    from scheduler import jobs

    directory.fail_next(errcode=60020, path="school/department/list")  # the server's IP is not trusted yet
    assert client.post(APP, **p.wecom_post(contact_event(now), now)).status_code == 200
    db_session.expire_all()
    assert identity(db_session, "wecom_school", "p-mom") is None
    assert jobs.sync_school_contacts(ext, now).results["sync_school_contacts"] == 1
    db_session.expire_all()
    assert identity(db_session, "wecom_school", "p-mom") is not None
    later = now + dt.timedelta(minutes=5)
    assert jobs.sync_school_contacts(ext, later).results["sync_school_contacts"] == 0, "nothing pending: no read"


def test_a_parent_reachable_by_chat_gets_one_copy_and_the_others_get_school_notices(runner, school, db_session,
                                                                                     directory):
    from models.people import guardian_recipients

    runner.invoke(args=["roster", "sync", "wecom", "--school", p.SCHOOL])
    db_session.expire_all()
    xiaoming = db_session.scalar(select(Student).where(Student.name == "张小明"))
    reach = {(gs.guardian.name, r.platform, r.address) for gs, r in guardian_recipients(db_session, xiaoming)}
    assert reach == {("李娟", "wecom_kf", "wmMOM"), ("张伟", "wecom_school", "p-dad")}
