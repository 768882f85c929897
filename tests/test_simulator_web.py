"""The simulator's web page and API: on only when asked for, and only ever the demo schools."""

from __future__ import annotations

import json

import pytest

from models.directory import School
from tests.fakes.fixtures import make_school


@pytest.fixture
def settings_overrides(settings_overrides):
    return {**settings_overrides, "simulator": {"enabled": True}}


def test_simulator_page_and_api(client, school):
    assert "模拟器" in client.get("/simulator").get_data(as_text=True)
    people = client.get("/simulator/api/people").get_json()
    keys = {p["label"].split("（")[0] for p in people}
    assert {"赵校长", "王芳", "张小明妈妈"} <= keys
    mum = next(p for p in people if p["label"].startswith("张小明妈妈"))
    assert client.post("/simulator/api/send", json={"person": mum["key"], "text": "帮助"}).status_code == 200
    lines = client.get(f"/simulator/api/chat?person={mum['key']}&where=private").get_json()
    assert lines[-1]["from_bot"]
    assert client.post("/simulator/api/send", data="not json").status_code == 400


def test_a_real_schools_people_are_never_listed_nor_played(client, school, db_session):
    school.school.is_demo = False  # a school imported from a real roster
    db_session.commit()
    assert client.get("/simulator/api/people").get_json() == []
    principal = school.staff["赵校长"]
    response = client.post("/simulator/api/send", json={"person": f"staff-{principal.id}", "text": "全部工单"})
    assert response.status_code == 404
    assert client.get(f"/simulator/api/chat?person=staff-{principal.id}").status_code == 404


def test_only_demo_schools_are_listed_beside_a_real_one(client, school, db_session):
    real = make_school(db_session)
    assert not db_session.get(School, real.id).is_demo
    schools = {p["school_name"] for p in client.get("/simulator/api/people").get_json()}
    assert schools == {"测试小学"}


def test_nul_and_lone_surrogates_typed_in_the_simulator_are_cleaned(client, school):
    people = client.get("/simulator/api/people").get_json()
    mum = next(p for p in people if p["label"].startswith("张小明妈妈"))
    data = json.dumps({"person": mum["key"], "text": "帮\x00助\ud800"})  # escaped, as a browser would send
    assert client.post("/simulator/api/send", data=data, content_type="application/json").status_code == 200
    lines = client.get(f"/simulator/api/chat?person={mum['key']}&where=private").get_json()
    assert lines[0]["text"] == "帮助\ufffd"
