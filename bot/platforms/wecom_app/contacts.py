"""家校通讯录: read a school's contacts directory from WeCom and apply it (``roster sync``, change events).

WeCom (developer.work.weixin.qq.com, 家校沟通; docs/platforms.md §7):

- ``GET school/department/list`` (no ``id``: the whole tree) → ``departments[{id, name,
  parentid, type}]``; ``type`` 1 班级, 2 年级, 3 学段, 4 校区, 5 学校.
- ``GET school/user/list?department_id=`` (one class; not recursive) →
  ``students[{student_userid, name, department[], parents[{parent_userid, relation,
  mobile, is_subscribe, external_userid?}]}]``.

Both need the self-built app set under 家校沟通 → API as an app that may read the
家校通讯录 (or listed as 「家长可使用的应用」); its own Secret gets the token.
The event ``change_school_contact`` (on the app's callback URL) asks for a new
read: it is stored, answered, and the read runs after the answer; the
scheduler's ``sync_school_contacts`` repeats what failed.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from flask import Response

from bot.exceptions import SendError
from bot.platforms.common.errors import translate
from models.roster_sync import Directory, DirectoryParent, DirectoryStudent

log = logging.getLogger(__name__)

EVENT = "change_school_contact"
SOURCE = "wecom"
CLASS, GRADE = 1, 2
PARENT_PLATFORM = "wecom_school"  # 学校通知 reaches parents by parent_userid
EXTERNAL_PLATFORM = "wecom_kf"  # 微信客服 customers are external_userids of the same corp

DINGTALK_UNAVAILABLE = (
    "钉钉家校通讯录无法自动同步：钉钉公开的家校接口（topapi/edu/dept/list、topapi/edu/user/list、"
    "topapi/edu/student/get）返回家长的 userid、称呼和关系，但不返回手机号，连心按手机号核对家长身份，"
    "因此无法据此建立家长与学生的对应；这些接口也未写明向企业内部应用（自建应用）开放。"
    "请从钉钉「家校通讯录」导出班级名单，整理成花名册后执行：flask --app app roster import 花名册.xlsx；"
    "家长在钉钉里私聊机器人发送「绑定 学生姓名 手机号后四位」即可。"
)


class ContactsError(Exception):
    """The directory could not be read (message in Chinese, with what the administrator must do)."""


def fetch(client: Any, endpoint: str, **params: Any) -> dict[str, Any]:
    """GET a WeCom endpoint; raise ``ContactsError`` with the errcode explained."""
    from bot.platforms.common.error_texts import explain

    try:
        return client.call_get(endpoint, **params)
    except Exception as exc:  # every failure becomes one explained line
        error = translate(exc)
        raise ContactsError(explain("wecom", error.code, str(error))) from exc


def read_wecom(client: Any) -> Directory:
    """Read every class, its students and their parents from the 家校通讯录."""
    departments = fetch(client, "school/department/list").get("departments") or []
    by_id = {int(d["id"]): d for d in departments if isinstance(d, dict) and "id" in d}
    directory = Directory()
    seen: dict[str, str] = {}
    for dept_id, dept in sorted(by_id.items()):
        if int(dept.get("type") or 0) != CLASS:
            continue
        grade = _grade(by_id, dept)
        name = str(dept.get("name") or "").strip()
        class_name = name if not grade or name.startswith(grade) else f"{grade}{name}"
        for item in fetch(client, "school/user/list", department_id=dept_id).get("students") or []:
            student = _student(item, class_name, grade)
            if student is None:
                continue
            if student.student_id in seen:  # a student in two classes: the first one counts
                directory.warnings.append(f"学生「{student.name}」同时在「{seen[student.student_id]}」和"
                                          f"「{class_name}」，按「{seen[student.student_id]}」导入")
                continue
            seen[student.student_id] = class_name
            if not student.parents:
                directory.warnings.append(f"{class_name}「{student.name}」在家校通讯录中没有家长，未导入")
                continue
            directory.students.append(student)
    return directory


def _grade(by_id: dict[int, dict[str, Any]], dept: dict[str, Any]) -> str:
    """Return the name of the nearest 年级 above a class (classes sit under a grade)."""
    parent = by_id.get(int(dept.get("parentid") or 0))
    for _ in range(10):  # the tree is shallow; never loop on a malformed one
        if parent is None:
            return ""
        if int(parent.get("type") or 0) == GRADE:
            return str(parent.get("name") or "").strip()
        parent = by_id.get(int(parent.get("parentid") or 0))
    return ""


def _student(item: Any, class_name: str, grade: str) -> DirectoryStudent | None:
    if not isinstance(item, dict) or not item.get("student_userid") or not str(item.get("name") or "").strip():
        return None  # a blank name (whitespace only) is no student the roster can hold
    parents = tuple(
        DirectoryParent(str(p["parent_userid"]), str(p.get("relation") or ""), str(p.get("mobile") or ""),
                        str(p.get("external_userid") or ""))
        for p in item.get("parents") or [] if isinstance(p, dict) and p.get("parent_userid"))
    return DirectoryStudent(str(item["student_userid"]), str(item["name"]).strip(), class_name, grade, parents)


def app_client(app_ext: Any, school_code: str, session: Any) -> Any:
    """Return the WeCom client of the school's self-built app (token cached in the database)."""
    from bot.platforms.common.tokens import DBTokenStorage
    from bot.platforms.wecom_app.client import WeComClient

    creds = app_ext.settings.platforms[school_code].wecom
    api = app_ext.settings.platform_api
    return WeComClient(creds.corp_id, creds.secret, base_url=api.wecom_api,
                       session=DBTokenStorage(session, app_ext.now), timeout=api.timeout_seconds)


def sync_wecom(app_ext: Any, school_code: str) -> Any:
    """Read the school's 家校通讯录 and apply it; commit. Returns the ``SyncReport``.

    Raises:
        ContactsError: the platform refused (explained); RosterError: entries the roster refuses.
    """
    from models.contact_sync import contact_sync, record_result
    from models.directory import find_school
    from models.roster import RosterError
    from models.roster_sync import sync_directory

    creds = app_ext.settings.platforms.get(school_code)
    if creds is None or creds.wecom is None:
        raise ContactsError(f"学校 {school_code} 没有配置企业微信自建应用（platforms.{school_code}.wecom）")
    with app_ext.sessionmaker() as db:
        school = find_school(db, school_code)
        if school is None:
            raise ContactsError(f"数据库中没有学校 {school_code}")
        started = app_ext.now()
        state = contact_sync(db, school.id, SOURCE, started)
        covered = state.requests  # a change reported during the read stays pending
        db.commit()
        try:
            directory = read_wecom(app_client(app_ext, school_code, db))
            report = sync_directory(db, school, directory, app_ext.now(), parent_platform=PARENT_PLATFORM,
                                    external_platform=EXTERNAL_PLATFORM if creds.wecom_kf is not None else None)
        except (ContactsError, RosterError) as exc:
            db.rollback()
            state = contact_sync(db, school.id, SOURCE, started)
            record_result(state, covered, app_ext.now(), str(exc))
            db.commit()
            raise
        record_result(state, covered, app_ext.now(), None)
        db.commit()
        return report


def is_contact_event(data: dict[str, Any]) -> bool:
    """Return whether decrypted callback fields are a change_school_contact event."""
    return str(data.get("MsgType") or "").lower() == "event" and str(data.get("Event") or "") == EVENT


def notified(school_code: str, school_id: int, data: dict[str, Any]) -> Response:
    """Store the change request, commit, answer; read the directory once the answer is out."""
    from bot.platforms.common import webhook
    from models.contact_sync import request_sync

    app_ext = webhook.ext()
    key = ":".join(str(data.get(k) or "") for k in ("CreateTime", "ChangeType", "Id"))
    new = request_sync(webhook.session(), school_id, SOURCE, key, app_ext.now())
    webhook.session().commit()
    response = Response("", mimetype="text/plain")
    if new:
        webhook.after_response(response, lambda: sync_pending(app_ext, school_code))
    return response


def sync_pending(app_ext: Any, school_code: str) -> int:
    """Read the directory if a change was reported since the last good read; return 1 if read."""
    from models.contact_sync import contact_sync
    from models.directory import find_school
    from models.roster import RosterError

    with app_ext.sessionmaker() as db:
        school = find_school(db, school_code)
        if school is None or not contact_sync(db, school.id, SOURCE, app_ext.now()).pending:
            db.commit()
            return 0
        db.commit()
    try:
        report = sync_wecom(app_ext, school_code)
    except (ContactsError, RosterError, SendError) as exc:
        log.warning("家校通讯录 sync of %s refused: %s", school_code, str(exc).splitlines()[0])
        return 0
    log.info("家校通讯录 sync of %s: %s", school_code, report.summary().replace("\n", " "))
    return 1


def pending_schools(app_ext: Any, now: dt.datetime) -> list[str]:
    """Return the codes of schools with a WeCom app (the scheduler checks each for a pending read)."""
    return [code for code, creds in app_ext.settings.platforms.items() if creds.wecom is not None]
