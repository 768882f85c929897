"""Serve every fake platform on 127.0.0.1 for trying the operator commands by hand.

    .venv/bin/python -m tests.fakes.serve --db instance/lianxin.sqlite3 --school demo-primary [--push]

Starts fake WeCom, Official Account and DingTalk servers (with the Stream
gateway), fills the fake 家校通讯录 from the school's current roster in the
database (one student dropped, one added), writes ``<instance>/settings.yaml``
pointing the school's platforms at the fakes and prints the environment to
export. With ``--push`` every new Stream connection receives one robot
message. Runs until Ctrl-C; only ever listens on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import threading
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from tests import payloads as p
from tests.fakes.dingtalk import FakeDingTalk
from tests.fakes.dingtalk_stream import stream_gateway
from tests.fakes.server import serving
from tests.fakes.wechat import FakeOfficialAccount, FakeWeCom


def directory_from(db: str, code: str, wecom: FakeWeCom) -> int:
    """Fill the fake 家校通讯录 from the school's roster; return how many students it lists."""
    from models.directory import School, SchoolClass, Student

    with Session(create_engine(f"sqlite:///{db}")) as session:
        school = session.scalar(select(School).where(School.code == code))
        classes = session.scalars(select(SchoolClass).where(SchoolClass.school_id == school.id)
                                  .order_by(SchoolClass.id)).all()
        grades: dict[str, int] = {}
        wecom.school_departments[:] = [{"id": 1, "name": school.name, "parentid": 0, "type": 5}]
        count = 0
        for cls in classes:
            if cls.grade not in grades:
                grades[cls.grade] = 100 + len(grades)
                wecom.school_departments.append({"id": grades[cls.grade], "name": cls.grade, "parentid": 1, "type": 2})
            wecom.school_departments.append({"id": cls.id, "name": cls.name, "parentid": grades[cls.grade], "type": 1})
            students = session.scalars(select(Student).where(Student.class_id == cls.id, Student.active.is_(True))
                                       .order_by(Student.id)).all()
            listed = []
            for st in students[1:] if cls is classes[-1] else students:  # one student left the school
                listed.append({"student_userid": f"s{st.id}", "name": st.name, "department": [cls.id], "parents": [
                    {"parent_userid": f"p{gs.guardian_id}", "relation": gs.relation, "mobile": gs.guardian.phone,
                     "is_subscribe": 1, **({"external_userid": f"wm{gs.guardian_id}"} if gs.guardian_id % 2 else {})}
                    for gs in st.guardianships]})
            if cls is classes[0]:  # a new pupil, with a relation the roster does not list
                listed.append({"student_userid": "s-new", "name": "林小雨", "department": [cls.id], "parents": [
                    {"parent_userid": "p-new", "relation": "伯母", "mobile": "13700009999", "is_subscribe": 0}]})
            wecom.school_students[cls.id] = listed
            count += len(listed)
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="the app's SQLite database file (after seed-demo)")
    parser.add_argument("--school", default="demo-primary")
    parser.add_argument("--instance", default="instance")
    parser.add_argument("--push", action="store_true", help="push one robot message on every Stream connection")
    args = parser.parse_args()
    with serving(FakeWeCom()) as wecom, serving(FakeOfficialAccount()) as oa, serving(FakeDingTalk()) as ding, \
            stream_gateway(ding) as gateway:
        students = directory_from(args.db, args.school, wecom)
        settings = {"platform_api": {"wecom_api": f"{wecom.url}/cgi-bin/", "wechat_api": f"{oa.url}/cgi-bin/",
                                     "dingtalk_api": ding.url, "dingtalk_oapi": ding.url,
                                     "dingtalk_webhook_prefixes": [f"{ding.url}/session/"], "timeout_seconds": 3},
                    "platforms": {args.school: {
                        "dingtalk": {"app_key": "dingdemo", "mode": "stream"},
                        "wecom": {"corp_id": p.CORP_ID, "agent_id": "1000002", "school_notice": True},
                        "wecom_kf": {"open_kfids": ["wkKF1"]},
                        "wechat": {"app_id": p.APP_ID}}}}
        path = Path(args.instance) / "settings.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
        env = args.school.upper().replace("-", "_")
        print(f"fake platforms up; 家校通讯录 with {students} students; wrote {path}")
        print(f"export LIANXIN_{env}_DINGTALK_APP_SECRET=s LIANXIN_{env}_WECOM_TOKEN=t "
              f"LIANXIN_{env}_WECOM_AES_KEY={p.AES_KEY} LIANXIN_{env}_WECOM_SECRET=s "
              f"LIANXIN_{env}_WECOM_KF_SECRET=s LIANXIN_{env}_WECHAT_TOKEN=t LIANXIN_{env}_WECHAT_SECRET=s", flush=True)
        if args.push:
            threading.Thread(target=push_forever, args=(gateway, ding), daemon=True).start()
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


def push_forever(gateway: Any, ding: FakeDingTalk) -> None:
    """Push one robot message on every new Stream connection and report its ack and reply."""
    seen = 0
    while True:
        gateway.wait_for(lambda n=seen: len(gateway.connections) > n, timeout=3600)
        seen = len(gateway.connections)
        body = p.dingtalk_body(dt.datetime.now(dt.UTC), " 你好", staff_id="stream-parent")
        hook = "/session/" + body["conversationId"]
        body["sessionWebhook"] = ding.webhook_url(body["conversationId"])
        frame = gateway.push(body)
        gateway.wait_for(lambda f=frame: gateway.acks_for(f), timeout=30)
        print(f"stream: pushed {body['msgId']}, ack {gateway.acks_for(frame)}", flush=True)
        ding.wait_for(lambda h=hook: ding.sent(h), timeout=30)
        print(f"stream: reply received: {ding.sent(hook)[-1].json}", flush=True)


if __name__ == "__main__":
    main()
