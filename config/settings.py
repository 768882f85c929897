"""Settings loaded once, in layers: defaults → instance file → environment → overrides.

Committed defaults live in ``config/settings.yaml``. An uncommitted
``instance/settings.yaml`` may override them, then every key can be overridden
by an environment variable ``LIANXIN_<SECTION>_<KEY>`` (``DATABASE_URL`` is also
accepted for ``database.url``), and finally a test may pass a dict. The result
is validated into typed, frozen dataclasses; a bad value fails at start-up with
an error naming the key.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import secrets
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from config.exceptions import SettingsError
from config.platforms import PlatformCredentials, build_platforms, env_layer, refuse_committed_secrets

ROOT = Path(__file__).resolve().parent.parent
DEFAULTS_FILE = ROOT / "config" / "settings.yaml"
ENV_PREFIX = "LIANXIN_"
SECRET_KEYS = frozenset({"app.secret_key"})


@dataclasses.dataclass(frozen=True)
class AppSettings:
    """General application settings."""

    name: str = "连心"
    secret_key: str = ""
    timezone: str = "Asia/Shanghai"
    base_url: str = "http://127.0.0.1:8000"
    log_level: str = "INFO"
    instance_path: str = "instance"
    max_body_bytes: int = 1_048_576
    # Who handles a webhook message after the answer: "thread" (an inbox thread in each web
    # worker; nothing else to run), "inline" (the request thread itself once the response is
    # closed: tests, whose sessions share one connection) or "worker" (the separate `flask inbox-worker` process,
    # so that web workers only store and answer; see docs/platforms.md).
    inbox: str = "thread"


@dataclasses.dataclass(frozen=True)
class DatabaseSettings:
    """Where the data lives."""

    url: str = ""
    echo: bool = False


@dataclasses.dataclass(frozen=True)
class BindingSettings:
    """How parents and staff prove who they are."""

    max_failures: int = 5
    lock_minutes: int = 60
    code_ttl_hours: int = 72


@dataclasses.dataclass(frozen=True)
class SimulatorSettings:
    """The local simulator channel (demo schools only; off unless asked for)."""

    enabled: bool = False
    bot_name: str = "连心"


@dataclasses.dataclass(frozen=True)
class PlatformApiSettings:
    """Where the platform APIs live (tests point these at fake servers) and how long to wait."""

    dingtalk_api: str = "https://api.dingtalk.com"
    dingtalk_oapi: str = "https://oapi.dingtalk.com"
    # Where a callback's sessionWebhook may point (URL prefixes): any other URL is never fetched.
    dingtalk_webhook_prefixes: tuple[str, ...] = ("https://oapi.dingtalk.com/", "https://api.dingtalk.com/")
    wecom_api: str = "https://qyapi.weixin.qq.com/cgi-bin/"
    wechat_api: str = "https://api.weixin.qq.com/cgi-bin/"
    timeout_seconds: float = 10.0


@dataclasses.dataclass(frozen=True)
class OutboxSettings:
    """Retry policy of the persistent outbox."""

    max_attempts: int = 8
    stuck_minutes: int = 10


@dataclasses.dataclass(frozen=True)
class SchedulerSettings:
    """The scheduler's clock: job times, reminder leads, quiet hours (local time)."""

    timezone: str = "Asia/Shanghai"
    sweep_minutes: int = 5
    drain_seconds: int = 30
    lease_seconds: int = 300
    misfire_grace_seconds: int = 3600
    digest_time: dt.time = dt.time(17, 30)
    weekly_day: str = "thu"
    weekly_time: dt.time = dt.time(17, 0)
    # Parents (and class groups) get nothing in this window except urgent-ticket messages.
    quiet_start: dt.time = dt.time(21, 30)
    quiet_end: dt.time = dt.time(7, 30)
    # Replies to a parent who wrote within this many minutes are not held (they are awake).
    reply_grace_minutes: int = 10
    staff_quiet_start: dt.time = dt.time(22, 0)
    staff_quiet_end: dt.time = dt.time(7, 0)
    respond_remind_minutes: int = 60
    resolve_remind_hours: int = 24
    callback_delay_minutes: int = 60
    callback_remind_hours: int = 24
    callback_window_days: int = 3
    care_visit_days: int = 14
    visit_reminder_day: str = "mon"
    visit_reminder_time: dt.time = dt.time(8, 0)
    # 校长接待日: the reception group's list from this time on the day, parents' reminders the day before.
    reception_list_time: dt.time = dt.time(7, 30)
    reception_reminder_time: dt.time = dt.time(16, 0)
    weekly_link_hours: int = 72  # the 周调度 download link works this long, for its director only


@dataclasses.dataclass(frozen=True)
class NoticesSettings:
    """Principals' notices (通知): private copies, acknowledgement window, reminders."""

    private_copy: bool = True
    ack_window_hours: int = 72
    reminder_after_hours: int = 24
    link_ttl_days: int = 14


@dataclasses.dataclass(frozen=True)
class SurveysSettings:
    """满意度测评: anonymity and form links."""

    anonymous: bool = True
    link_grace_days: int = 30
    # A class, grade or school with fewer responses shows no breakdown to anyone but the principal.
    min_breakdown: int = 5


@dataclasses.dataclass(frozen=True)
class ExportsSettings:
    """Excel exports: download-link lifetime and where files are written."""

    link_ttl_minutes: int = 10
    directory: str = "exports"


@dataclasses.dataclass(frozen=True)
class MediaSettings:
    """Pictures and files (docs/media.md): where they are kept, what is accepted, for how long."""

    store: str = "folder"  # folder (instance folder, one host) | database (PostgreSQL bytea, every host)
    directory: str = "media"  # the folder store's root, under the instance folder
    max_bytes: int = 10_485_760  # 10 MB: larger media is refused (the message's text is kept)
    max_unzipped_bytes: int = 100_000_000  # what a DOCX/XLSX may unpack to (zip bombs)
    max_pixels: int = 50_000_000  # larger pictures are refused before decoding
    school_quota_bytes: int = 5_000_000_000  # per school, across its attachments
    retention_days: int = 365  # attachments of tickets closed longer ago are purged
    join_minutes: int = 10  # a picture this close to a parent's text joins that matter's ticket
    link_ttl_minutes: int = 1440  # signed /a/ links in staff notifications
    fetch_attempts: int = 4  # platform downloads before the parent is told it failed


@dataclasses.dataclass(frozen=True)
class RosterSettings:
    """Limits on an imported roster file (a broken export must not exhaust the server)."""

    max_bytes: int = 20_000_000
    max_rows: int = 50_000
    max_unzipped_bytes: int = 200_000_000


@dataclasses.dataclass(frozen=True)
class TicketsSettings:
    """Turning parent messages into tickets (deadlines: config/tickets.yaml; 回访 timing: scheduler)."""

    low_confidence: float = 0.35  # below this the ticket goes to the head teacher as `other` for triage
    duplicate_hours: int = 24  # the same parent repeating the same issue within this is appended
    question_ttl_hours: int = 24  # how long "which child?" and 「没解决」 stay answerable
    review_minutes: int = 15  # a 疑似紧急 ticket nobody confirmed or dismissed is escalated as urgent after this


@dataclasses.dataclass(frozen=True)
class Settings:
    """All settings, one typed object."""

    app: AppSettings = dataclasses.field(default_factory=AppSettings)
    database: DatabaseSettings = dataclasses.field(default_factory=DatabaseSettings)
    binding: BindingSettings = dataclasses.field(default_factory=BindingSettings)
    simulator: SimulatorSettings = dataclasses.field(default_factory=SimulatorSettings)
    notices: NoticesSettings = dataclasses.field(default_factory=NoticesSettings)
    surveys: SurveysSettings = dataclasses.field(default_factory=SurveysSettings)
    exports: ExportsSettings = dataclasses.field(default_factory=ExportsSettings)
    roster: RosterSettings = dataclasses.field(default_factory=RosterSettings)
    media: MediaSettings = dataclasses.field(default_factory=MediaSettings)
    scheduler: SchedulerSettings = dataclasses.field(default_factory=SchedulerSettings)
    platform_api: PlatformApiSettings = dataclasses.field(default_factory=PlatformApiSettings)
    outbox: OutboxSettings = dataclasses.field(default_factory=OutboxSettings)
    tickets: TicketsSettings = dataclasses.field(default_factory=TicketsSettings)
    # Per-school credentials (config/platforms.py): school code → PlatformCredentials.
    platforms: Mapping[str, PlatformCredentials] = dataclasses.field(default_factory=dict)
    # Free-form sections that later features own (routing rules, FAQ ...).
    extra: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def instance_dir(self) -> Path:
        """Return the absolute instance directory."""
        path = Path(self.app.instance_path)
        return path if path.is_absolute() else ROOT / path


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Build the settings from every layer and validate them.

    Args:
        overrides: nested dict applied last (tests).
        environ: environment to read (defaults to ``os.environ``).

    Returns:
        The validated settings.

    Raises:
        SettingsError: naming the offending key.
    """
    environ = os.environ if environ is None else environ
    raw = _read_yaml(DEFAULTS_FILE)
    instance = Path(environ.get("LIANXIN_APP_INSTANCE_PATH") or _get(raw, "app", "instance_path") or "instance")
    instance = instance if instance.is_absolute() else ROOT / instance
    _merge(raw, _read_yaml(instance / "settings.yaml"))
    _merge(raw, _env_layer(raw, environ))
    refuse_committed_secrets(_read_yaml(DEFAULTS_FILE).get("platforms"), str(DEFAULTS_FILE))
    _merge(raw, {"platforms": env_layer(environ, raw.get("platforms"), (overrides or {}).get("platforms"))})
    if overrides:
        _merge(raw, _plain(overrides))
    settings = _build(raw)
    platforms = build_platforms(raw.get("platforms"), frozenset(_typed_sections()) | {"platforms"})
    return _finish(dataclasses.replace(settings, platforms=platforms), instance)


def _finish(settings: Settings, instance: Path) -> Settings:
    """Fill derived defaults (database file, dev secret key)."""
    app, database = settings.app, settings.database
    if not database.url:
        instance.mkdir(parents=True, exist_ok=True)
        database = dataclasses.replace(database, url=f"sqlite:///{instance / 'lianxin.sqlite3'}")
    if not app.secret_key:
        # A per-machine secret in the uncommitted instance folder: never in the repo.
        instance.mkdir(parents=True, exist_ok=True)
        key_file = instance / "secret_key"
        if not key_file.exists():
            key_file.write_text(secrets.token_urlsafe(32), encoding="utf-8")
        app = dataclasses.replace(app, secret_key=key_file.read_text(encoding="utf-8").strip())
    if len(app.secret_key) < 16:
        raise SettingsError("app.secret_key", "must be at least 16 characters")
    _check_timezone(app.timezone)
    if app.inbox not in ("thread", "worker", "inline"):
        raise SettingsError("app.inbox", f"must be thread, worker or inline, not {app.inbox!r}")
    if settings.simulator.enabled and settings.platforms:
        # Anyone who can reach /simulator may post as a principal: never next to real platforms.
        raise SettingsError("simulator.enabled", "must be false while platform credentials are configured "
                            f"({', '.join(sorted(settings.platforms))}); the simulator is for trying the demo only")
    return dataclasses.replace(settings, app=app, database=database)


def _check_timezone(name: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise SettingsError("app.timezone", f"unknown time zone {name!r}") from exc


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise SettingsError(str(path), f"is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise SettingsError(str(path), "must contain a mapping of sections")
    return data


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _merge(base: dict[str, Any], layer: Mapping[str, Any]) -> None:
    for key, value in layer.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = _plain(value)


def _get(raw: Mapping[str, Any], section: str, key: str) -> Any:
    sec = raw.get(section)
    return sec.get(key) if isinstance(sec, Mapping) else None


def _typed_sections() -> dict[str, type]:
    hints = typing.get_type_hints(Settings)
    return {f.name: hints[f.name] for f in dataclasses.fields(Settings) if f.name not in ("extra", "platforms")}


def _env_layer(raw: Mapping[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """Collect ``LIANXIN_<SECTION>_<KEY>`` variables (plus ``DATABASE_URL``)."""
    layer: dict[str, Any] = {}
    if environ.get("DATABASE_URL"):
        layer.setdefault("database", {})["url"] = environ["DATABASE_URL"]
    sections = set(_typed_sections()) | {k for k, v in raw.items() if isinstance(v, Mapping)}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        rest = name[len(ENV_PREFIX) :].lower()
        for section in sorted(sections, key=len, reverse=True):
            if rest.startswith(section + "_"):
                layer.setdefault(section, {})[rest[len(section) + 1 :]] = value
                break
    return layer


def _build(raw: Mapping[str, Any]) -> Settings:
    typed = _typed_sections()
    values: dict[str, Any] = {}
    for section, cls in typed.items():
        given = raw.get(section) or {}
        if not isinstance(given, Mapping):
            raise SettingsError(section, "must be a mapping")
        values[section] = _build_section(section, cls, given)
    extra = {k: v for k, v in raw.items() if k not in typed and k != "platforms"}
    return Settings(**values, extra=extra)


def _build_section(section: str, cls: type, given: Mapping[str, Any]) -> Any:
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(given) - known)
    if unknown:
        raise SettingsError(f"{section}.{unknown[0]}", "is not a known setting")
    kwargs = {key: _coerce(f"{section}.{key}", hints[key], value) for key, value in given.items()}
    return cls(**kwargs)


def _coerce(key: str, kind: Any, value: Any) -> Any:
    """Convert ``value`` (maybe a string from the environment) to ``kind``."""
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(kind) if a is not type(None)]
        if value is None or value == "":
            return None
        return _coerce(key, args[0], value)
    try:
        if kind is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off"}:
                return False
            raise ValueError(value)
        if kind is int:
            if isinstance(value, bool):
                raise ValueError(value)
            return int(value)
        if kind is float:
            return float(value)
        if kind is str:
            if isinstance(value, Mapping | list):
                raise ValueError(value)
            return str(value)
        if kind is dt.time:
            return value if isinstance(value, dt.time) else _parse_time(str(value))
        if origin is tuple:
            items = value.split(",") if isinstance(value, str) else list(value)
            inner = typing.get_args(kind)[0]
            return tuple(_coerce(key, inner, i.strip() if isinstance(i, str) else i) for i in items if i != "")
    except (TypeError, ValueError) as exc:
        raise SettingsError(key, f"has an invalid value {value!r} (expected {getattr(kind, '__name__', kind)})") from exc
    return value


def _parse_time(text: str) -> dt.time:
    hours, minutes = text.split(":")
    return dt.time(int(hours), int(minutes))
