"""DingTalk Stream mode against a fake gateway: stored like the HTTP route, acked after the commit, reconnects."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from app import create_app, lianxin
from bot.platforms.dingtalk.stream import Backoff, build_streams, inbox_waker, run_streams
from config.exceptions import SettingsError
from models.base import Base
from models.db import make_engine
from models.inbound import InboundRecord
from tests import payloads as p
from tests.conftest import pg_schema_engine
from tests.factories import build_school
from tests.fakes.dingtalk import FakeDingTalk
from tests.fakes.dingtalk_stream import FakeStreamGateway, stream_gateway
from tests.fakes.fixtures import fake_dingtalk  # noqa: F401 - fixture

STREAM_CREDENTIALS = {p.SCHOOL: {"dingtalk": {"app_key": "dingappkey", "app_secret": p.DINGTALK_SECRET,
                                              "robot_code": p.ROBOT_CODE, "mode": "stream"}}}


@pytest.fixture(params=["sqlite", "postgresql"])
def committed_engine(request, tmp_path) -> Iterator:
    """A database of each kind whose commits are real: the stream runs in threads of its own."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'stream.sqlite3'}")
        Base.metadata.create_all(engine)
        yield engine
        engine.dispose()
        return
    with pg_schema_engine("lx_stream") as engine:
        Base.metadata.create_all(engine)
        yield engine


@pytest.fixture
def stream_app(committed_engine, fake_dingtalk, tmp_path):  # noqa: F811
    app = create_app({
        "app": {"secret_key": "test-secret-key-0123456789", "instance_path": str(tmp_path / "instance")},
        "database": {"url": committed_engine.url.render_as_string(hide_password=False)},
        "platforms": STREAM_CREDENTIALS,
        "platform_api": {"dingtalk_api": fake_dingtalk.url, "dingtalk_oapi": fake_dingtalk.url,
                         "dingtalk_webhook_prefixes": [fake_dingtalk.url + "/session/"], "timeout_seconds": 2},
    })
    ext = lianxin(app)
    with ext.sessionmaker() as session:
        build_school(session, dt.datetime.now(dt.UTC))
        session.commit()
    yield app
    ext.engine.dispose()


@pytest.fixture
def gateway(fake_dingtalk) -> Iterator[FakeStreamGateway]:  # noqa: F811
    with stream_gateway(fake_dingtalk) as gw:
        yield gw


FAST = Backoff(0.01, 0.05)  # the production waits are 1 s doubling to 60 s


class Running:
    """The stream connections in an event loop of their own thread, as ``flask dingtalk-stream`` runs them."""

    def __init__(self, app, backoff: Backoff = FAST) -> None:
        self.streams = build_streams(app, [p.SCHOOL], inbox_waker(app), backoff)
        self.ready = threading.Event()
        self.thread = threading.Thread(target=asyncio.run, args=(self._main(),), daemon=True)

    async def _main(self) -> None:
        self.loop, self.stop = asyncio.get_running_loop(), asyncio.Event()
        self.ready.set()
        await run_streams(self.streams, self.stop)

    def __enter__(self) -> Running:
        self.thread.start()
        assert self.ready.wait(10)
        return self

    def __exit__(self, *exc) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(10)
        assert not self.thread.is_alive(), "the stream must stop when asked"


def records(app, msg_id: str) -> int:
    with lianxin(app).sessionmaker() as session:
        return session.scalar(select(func.count()).select_from(InboundRecord)
                              .where(InboundRecord.platform_msg_id == msg_id))


def robot_message(fake: FakeDingTalk, text: str = " 你好", **kw) -> dict:
    now = dt.datetime.now(dt.UTC)
    body = p.dingtalk_body(now, text, **kw)
    body["sessionWebhook"] = fake.webhook_url(body["conversationId"])
    return body


def test_a_frame_becomes_a_stored_handled_message_whose_reply_goes_out(stream_app, gateway, fake_dingtalk):  # noqa: F811
    body = robot_message(fake_dingtalk, staff_id="stranger-1")
    with Running(stream_app):
        assert gateway.wait_for(lambda: gateway.connections)
        assert gateway.opened[0]["clientId"] == "dingappkey"
        assert gateway.opened[0]["subscriptions"] == [{"type": "CALLBACK", "topic": "/v1.0/im/bot/messages/get"}]
        frame_id = gateway.push(body)
        assert gateway.wait_for(lambda: gateway.acks_for(frame_id))
        [ack] = gateway.acks_for(frame_id)
        assert ack["code"] == 200
        hook = f"/session/{body['conversationId']}"
        assert fake_dingtalk.wait_for(lambda: fake_dingtalk.sent(hook)), "the reply goes out through the sessionWebhook"
    [reply] = fake_dingtalk.sent(hook)
    assert "绑定" in reply.json["text"]["content"]  # a stranger is asked to bind, as over HTTP
    with lianxin(stream_app).sessionmaker() as session:
        [record] = session.scalars(select(InboundRecord)).all()
    assert (record.platform, record.platform_msg_id, record.text) == ("dingtalk", body["msgId"], "你好")
    assert record.status == "processed"


def test_a_redelivered_frame_stores_nothing_twice(stream_app, gateway, fake_dingtalk):  # noqa: F811
    body = robot_message(fake_dingtalk, " 食堂的饭菜是凉的", staff_id="stranger-2")
    with Running(stream_app):
        gateway.wait_for(lambda: gateway.connections)
        first = gateway.push(body)
        assert gateway.wait_for(lambda: gateway.acks_for(first))
        again = gateway.push(body)  # DingTalk's redelivery: same msgId, new frame
        assert gateway.wait_for(lambda: gateway.acks_for(again))
        hook = f"/session/{body['conversationId']}"
        assert fake_dingtalk.wait_for(lambda: fake_dingtalk.sent(hook))
    assert gateway.acks_for(again)[0]["code"] == 200, "a redelivery is acked too, so it stops"
    assert records(stream_app, body["msgId"]) == 1
    assert len(fake_dingtalk.sent(hook)) == 1, "one reply, not two"


def test_the_ack_is_sent_only_after_the_commit(stream_app, gateway, fake_dingtalk, monkeypatch):  # noqa: F811
    import bot.platforms.dingtalk.stream as stream_module

    seen_at_ack: dict[str, int] = {}
    gateway.on_ack = lambda ack: seen_at_ack.setdefault(ack["headers"]["messageId"], records(stream_app, body["msgId"]))
    body = robot_message(fake_dingtalk, staff_id="stranger-3")
    real_store = stream_module.store_payload
    failures = iter([RuntimeError("database restarting")])

    def flaky_store(*args, **kwargs):
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return real_store(*args, **kwargs)

    monkeypatch.setattr(stream_module, "store_payload", flaky_store)
    with Running(stream_app):
        gateway.wait_for(lambda: gateway.connections)
        lost = gateway.push(body)  # the commit fails: no ack, DingTalk will deliver it again
        retried = gateway.push(body)
        assert gateway.wait_for(lambda: gateway.acks_for(retried))
    assert gateway.acks_for(lost) == [], "nothing stored, nothing acked"
    assert seen_at_ack[retried] == 1, "the message was committed when the ack left"
    assert records(stream_app, body["msgId"]) == 1


def test_a_frame_without_ids_is_refused_with_400_and_stores_nothing(stream_app, gateway, fake_dingtalk):  # noqa: F811
    body = robot_message(fake_dingtalk)
    del body["msgId"]
    with Running(stream_app):
        gateway.wait_for(lambda: gateway.connections)
        frame_id = gateway.push(body)
        assert gateway.wait_for(lambda: gateway.acks_for(frame_id))
    assert gateway.acks_for(frame_id)[0]["code"] == 400
    with lianxin(stream_app).sessionmaker() as session:
        assert session.scalar(select(func.count()).select_from(InboundRecord)) == 0


def test_a_dropped_connection_reconnects_with_a_new_ticket(stream_app, gateway, fake_dingtalk):  # noqa: F811
    gateway.refuse_open = 1  # the gateway is down at first: the client backs off and tries again
    body = robot_message(fake_dingtalk, staff_id="stranger-4")
    with Running(stream_app) as running:
        assert gateway.wait_for(lambda: gateway.connections)
        gateway.drop()
        assert gateway.wait_for(lambda: len(gateway.connections) == 2), "reconnected after the drop"
        frame_id = gateway.push(body)
        assert gateway.wait_for(lambda: gateway.acks_for(frame_id))
        assert running.streams[0].connections == 2
    assert len(gateway.opened) == 3  # refused, first connection, reconnection
    assert records(stream_app, body["msgId"]) == 1


def test_backoff_doubles_up_to_its_maximum() -> None:
    backoff, delay, seen = Backoff(1.0, 60.0), 1.0, []
    for _ in range(8):
        seen.append(delay)
        delay = backoff.next(delay)
    assert seen == [1, 2, 4, 8, 16, 32, 60, 60]


# -- the HTTP route and the setting ------------------------------------------------------------

@pytest.fixture
def settings_overrides(settings_overrides):
    return {**settings_overrides, "platforms": STREAM_CREDENTIALS}


def test_the_http_callback_answers_404_for_a_stream_mode_school(client, school, db_session):
    now = dt.datetime.now(dt.UTC)
    resp = client.post(f"/dingtalk/{p.SCHOOL}/callback", **p.dingtalk_request(p.dingtalk_body(now), now))
    assert resp.status_code == 404
    assert db_session.scalar(select(func.count()).select_from(InboundRecord)) == 0


def test_the_command_says_which_setting_turns_stream_mode_on(runner, school, app):
    lianxin(app).settings.platforms[p.SCHOOL].dingtalk.__dict__["mode"] = "http"  # frozen dataclass, test only
    result = runner.invoke(args=["dingtalk-stream"])
    assert result.exit_code != 0 and "mode: stream" in result.output


@pytest.mark.parametrize("mode", ["websocket", "STREAM"])
def test_an_unknown_mode_stops_start_up_naming_the_key(mode):
    from config.platforms import build_platforms

    with pytest.raises(SettingsError, match="platforms.t1.dingtalk.mode"):
        build_platforms({"t1": {"dingtalk": {"app_key": "k", "app_secret": "s", "mode": mode}}})
