"""Settings: layers, environment overrides, and errors that name the key."""

from __future__ import annotations

import pytest

from app import create_app
from config.exceptions import SettingsError
from config.settings import load_settings


def _env(tmp_path, **extra) -> dict[str, str]:
    return {"LIANXIN_APP_INSTANCE_PATH": str(tmp_path), "LIANXIN_APP_SECRET_KEY": "x" * 32, **extra}


def test_defaults_give_a_sqlite_file_under_instance(tmp_path) -> None:
    settings = load_settings(environ={"LIANXIN_APP_INSTANCE_PATH": str(tmp_path)})
    assert settings.database.url == f"sqlite:///{tmp_path / 'lianxin.sqlite3'}"
    assert settings.app.timezone == "Asia/Shanghai"
    # a per-machine secret is generated into the uncommitted instance folder
    assert (tmp_path / "secret_key").read_text() == settings.app.secret_key


def test_environment_overrides_every_layer(tmp_path) -> None:
    (tmp_path / "settings.yaml").write_text("binding:\n  max_failures: 7\n", encoding="utf-8")
    settings = load_settings(environ=_env(tmp_path, LIANXIN_BINDING_LOCK_MINUTES="15",
                                          DATABASE_URL="postgresql+psycopg://u@h/db"))
    assert settings.binding.max_failures == 7  # instance file
    assert settings.binding.lock_minutes == 15  # environment
    assert settings.database.url == "postgresql+psycopg://u@h/db"


def test_test_overrides_come_last(tmp_path) -> None:
    settings = load_settings({"binding": {"max_failures": 2}}, environ=_env(tmp_path, LIANXIN_BINDING_MAX_FAILURES="9"))
    assert settings.binding.max_failures == 2


@pytest.mark.parametrize(
    ("env", "key"),
    [
        ({"LIANXIN_BINDING_MAX_FAILURES": "five"}, "binding.max_failures"),
        ({"LIANXIN_SIMULATOR_ENABLED": "maybe"}, "simulator.enabled"),
        ({"LIANXIN_APP_TIMEZONE": "Mars/Olympus"}, "app.timezone"),
        ({"LIANXIN_APP_SECRET_KEY": "short"}, "app.secret_key"),
    ],
)
def test_bad_values_fail_at_start_up_naming_the_key(tmp_path, env, key) -> None:
    environ = {**_env(tmp_path), **env}
    with pytest.raises(SettingsError) as info:
        create_app(load_settings(environ=environ))
    assert info.value.key == key
    assert key in str(info.value)


def test_unknown_key_in_instance_file_is_named(tmp_path) -> None:
    (tmp_path / "settings.yaml").write_text("binding:\n  max_failurs: 7\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="binding.max_failurs"):
        load_settings(environ=_env(tmp_path))


def test_settings_command_masks_secrets(tmp_path) -> None:
    app = create_app(load_settings(environ=_env(tmp_path)))
    out = app.test_cli_runner().invoke(args=["settings"]).output
    assert "app.secret_key = ***" in out
    assert "x" * 32 not in out


def test_settings_command_masks_the_database_password(tmp_path) -> None:
    url = "postgresql+psycopg://lianxin:s3cret-pw@db.example.edu.cn:5432/lianxin"
    app = create_app(load_settings(environ=_env(tmp_path, DATABASE_URL=url)))
    out = app.test_cli_runner().invoke(args=["settings"]).output
    assert "s3cret-pw" not in out
    assert "database.url = postgresql+psycopg://lianxin:***@db.example.edu.cn:5432/lianxin" in out


def test_simulator_is_off_unless_asked_for(tmp_path) -> None:
    assert load_settings(environ=_env(tmp_path)).simulator.enabled is False
    on = load_settings(environ=_env(tmp_path, LIANXIN_SIMULATOR_ENABLED="true"))
    assert on.simulator.enabled is True


def test_simulator_refused_next_to_a_configured_platform(tmp_path) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({"platforms": {"s1": {"wechat": {"app_id": "wx1", "secret": "s", "token": "t"}}}},
                      environ=_env(tmp_path, LIANXIN_SIMULATOR_ENABLED="true"))
    assert caught.value.key == "simulator.enabled" and "s1" in str(caught.value)
