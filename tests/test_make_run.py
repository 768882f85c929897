"""`make run` is a demo: the 回访 comes within minutes of 办结, not after an hour (issue 16, item 15)."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from config.settings import load_settings
from models.callback_sweep import sweep_callbacks
from tests.kit import SimBot

ROOT = Path(__file__).resolve().parent.parent


def _run_environment() -> dict[str, str]:
    """Return the LIANXIN_* variables `make run` gives the web server and the scheduler (make -n: nothing runs)."""
    if shutil.which("make") is None:
        pytest.skip("make not installed")
    script = subprocess.run(["make", "-n", "run", "PORT=8099"], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout
    lines = [line for line in script.splitlines() if "flask --app app scheduler" in line or "gunicorn" in line]
    assert len(lines) == 2, script
    found = [dict(re.findall(r"(LIANXIN_[A-Z_]+)=(\S+)", line)) for line in lines]
    assert found[0] == found[1], "the web server and the scheduler run with the same demo settings"
    return found[0]


@pytest.fixture
def settings_overrides(settings_overrides):
    demo = load_settings(environ=_run_environment()).scheduler
    return {**settings_overrides, "scheduler": {"callback_delay_minutes": demo.callback_delay_minutes,
                                                "sweep_minutes": demo.sweep_minutes}}


def test_make_run_asks_the_callback_within_minutes(ext, db_session, school, now):
    cfg = ext.settings.scheduler
    assert 0 < cfg.callback_delay_minutes <= 2 and cfg.sweep_minutes == 1
    bot = SimBot(ext, db_session)
    for who in ("张小明妈妈", "周敏"):
        bot.bind(who)
    bot.say("张小明妈妈", "食堂的饭菜太差了，孩子吃不饱，请学校整改")
    bot.say("周敏", "办结 2026-0001 已调整配餐")
    # The scheduler sweeps every minute: the 回访 arrives within delay + one sweep.
    at = now + dt.timedelta(minutes=cfg.callback_delay_minutes + cfg.sweep_minutes)
    sweep_callbacks(db_session, ext.settings, at)
    db_session.commit()
    bot.deliver(at)
    assert any("回访" in line for line in bot.pop("张小明妈妈"))
