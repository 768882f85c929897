"""The scheduler's kf pass picks up 微信客服 messages a failed pull left behind."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models.inbound import InboundRecord
from scheduler import jobs
from tests import payloads as p
from tests.fakes.fixtures import fake_wecom  # noqa: F401 - fixture
from tests.test_wecom import KF, kf_event, kf_item


@pytest.fixture
def settings_overrides(settings_overrides, fake_wecom):  # noqa: F811
    return {**settings_overrides, "platforms": p.CREDENTIALS,
            "platform_api": {"wecom_api": f"{fake_wecom.url}/cgi-bin/", "timeout_seconds": 2}}


def test_failed_pull_is_retried_by_the_sync_kf_job(client, school, db_session, ext, now, fake_wecom):  # noqa: F811
    fake_wecom.kf_messages.append(kf_item("kfmsg-job", "老师好，孩子明天请假", now))
    fake_wecom.fail_next(times=1, status=502, path="kf/sync_msg")
    assert client.post(KF, **p.wecom_post(kf_event(now), now), buffered=True).status_code == 200
    kf_rows = select(InboundRecord).where(InboundRecord.platform == "wecom_kf")
    assert db_session.scalars(kf_rows).all() == []
    report = jobs.sync_kf(ext, now)
    assert report.ran and report.results["sync_kf"] == 1
    assert [r.text for r in db_session.scalars(kf_rows)] == ["老师好，孩子明天请假"]
    assert jobs.sync_kf(ext, now).results["sync_kf"] == 0  # nothing stored twice
