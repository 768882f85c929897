"""Per-school platform credentials: ids from YAML, secrets from the environment.

One deployment serves many schools; each has its own DingTalk app, WeCom corp,
微信客服 account, WeCom AI bot and Official Account. The non-secret ids live in
``config/settings.yaml`` or ``instance/settings.yaml``::

    platforms:
      demo-primary:
        dingtalk: {app_key: dingxxxx, robot_code: dingxxxx}
        wecom: {corp_id: wwxxxx, agent_id: "1000002", school_notice: true}
        wecom_kf: {open_kfids: [wkxxxx]}
        wecom_aibot: {bot_id: aibxxxx}
        wechat: {app_id: wxxxxxxx, template_id: TPLxxxx, template_fields: "thing1:title,thing2:summary,time3:time"}

and every secret comes from ``LIANXIN_<SCHOOL>_<PLATFORM>_<KEY>`` (school code
upper-cased, dashes → underscores), e.g. ``LIANXIN_DEMO_PRIMARY_DINGTALK_APP_SECRET``.
Any key may be given that way; secrets in the committed ``config/settings.yaml``
are refused. A configured platform with a missing secret fails at start-up,
naming the environment variable to set. Tests pass whole sections (secrets
included) as ``create_app`` overrides.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from collections.abc import Mapping
from typing import Any

from config.exceptions import SettingsError

ENV_PREFIX = "LIANXIN_"
_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


def _secret(default: str = "") -> Any:
    """A field that never shows in repr() (logs, tracebacks)."""
    return dataclasses.field(default=default, repr=False, metadata={"secret": True})


@dataclasses.dataclass(frozen=True)
class DingTalkCredentials:
    """An enterprise-internal DingTalk app with a robot.

    ``robot_code`` is the app key for an internal app's robot unless set.
    ``agent_id`` is only needed for work notices (工作通知). ``mode``: how robot
    messages arrive, ``http`` (the callback URL) or ``stream`` (the
    ``dingtalk-stream`` process; the callback URL then answers 404).
    """

    app_key: str
    app_secret: str = _secret()
    robot_code: str = ""
    agent_id: str = ""
    mode: str = "http"

    def __post_init__(self) -> None:
        if not self.robot_code:
            object.__setattr__(self, "robot_code", self.app_key)


@dataclasses.dataclass(frozen=True)
class WeComCredentials:
    """A WeCom self-built app (staff): callback Token/EncodingAESKey, sending secret.

    ``school_notice``: the app may send 学校通知 to parents of the 家校通讯录
    (fallback when 微信客服's window is closed). Group robots (群机器人) are
    not configured here: a robot belongs to one group, so each class group
    registers its own (``@连心 设置群机器人 KEY``, stored on the group).
    """

    corp_id: str
    agent_id: str
    token: str = _secret()
    aes_key: str = _secret()
    secret: str = _secret()
    school_notice: bool = False


@dataclasses.dataclass(frozen=True)
class WeComKfCredentials:
    """微信客服 (parents on WeChat): the kf secret and its callback keys.

    ``corp_id``, ``token`` and ``aes_key`` default to the school's ``wecom``
    section (kf events may arrive on the self-built app's callback);
    ``open_kfids`` lists the accepted kf accounts (empty: accept any).
    """

    corp_id: str
    secret: str = _secret()
    token: str = _secret()
    aes_key: str = _secret()
    open_kfids: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class WeComAiBotCredentials:
    """A WeCom 智能机器人 (group @-mentions and DMs; encrypted JSON, receiveid "")."""

    token: str = _secret()
    aes_key: str = _secret()
    bot_id: str = ""


@dataclasses.dataclass(frozen=True)
class WeChatCredentials:
    """A WeChat Official Account; ``aes_key`` is needed only in safe (安全) mode.

    Outside the 48-hour customer-service window a parent is reached by a
    template message (``template_kind: template``, service accounts' 类目模板)
    or a subscribe message (``template_kind: subscribe``, 订阅通知, to parents who
    subscribed). Since May 2023 such messages show only the template's own
    fields, at most 20 characters each, so ``template_fields`` maps the keys of
    the template chosen in the OA console to what fills them —
    ``thing1:title,thing2:summary,time3:time`` (sources: title, summary, time,
    school) — and a tap opens a signed page with the whole message.
    """

    app_id: str
    token: str = _secret()
    secret: str = _secret()
    aes_key: str = _secret()
    template_id: str = ""
    template_kind: str = "template"
    template_fields: str = ""

    @property
    def fields(self) -> tuple[tuple[str, str], ...]:
        """Return the (template key, source) pairs of ``template_fields``."""
        return tuple(tuple(part.split(":", 1)) for part in self.template_fields.split(",") if part.strip())


TEMPLATE_SOURCES = ("title", "summary", "time", "school")
_TEMPLATE_KEY = re.compile(r"^[a-z_]+[0-9]+$")


def _check_wechat(code: str, creds: WeChatCredentials) -> None:
    where = f"platforms.{code}.wechat"
    if creds.template_kind not in ("template", "subscribe"):
        raise SettingsError(f"{where}.template_kind", "must be template or subscribe")
    if not creds.template_id:
        return
    if not creds.template_fields:
        raise SettingsError(f"{where}.template_fields", "is required with template_id: the keys of the template in "
                            "the OA console and what fills them, e.g. thing1:title,thing2:summary,time3:time")
    for part in creds.template_fields.split(","):
        key, _, source = part.strip().partition(":")
        if not _TEMPLATE_KEY.match(key) or source not in TEMPLATE_SOURCES:
            raise SettingsError(f"{where}.template_fields", f"{part.strip()!r} is not key:source with a source "
                                f"from {', '.join(TEMPLATE_SOURCES)}")


@dataclasses.dataclass(frozen=True)
class PlatformCredentials:
    """Everything one school has configured; None means the platform is off."""

    school_code: str
    dingtalk: DingTalkCredentials | None = None
    wecom: WeComCredentials | None = None
    wecom_kf: WeComKfCredentials | None = None
    wecom_aibot: WeComAiBotCredentials | None = None
    wechat: WeChatCredentials | None = None


PLATFORM_CLASSES: dict[str, type] = {
    "dingtalk": DingTalkCredentials,
    "wecom": WeComCredentials,
    "wecom_kf": WeComKfCredentials,
    "wecom_aibot": WeComAiBotCredentials,
    "wechat": WeChatCredentials,
}
# Secrets that may stay empty (OA plain mode needs no AES key).
OPTIONAL_SECRETS = frozenset({("wechat", "aes_key")})
# Settings that were removed because they were wrong, with what to do instead.
WITHDRAWN = {("wecom", "webhook_key"): "a group robot posts to its one group only, so one school-wide key sent every "
             "class's messages to the same group: remove it and register each class group's robot in that group "
             "(@连心 设置群机器人 KEY)"}
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})
# Settings that take one of a few words.
CHOICES: dict[tuple[str, str], tuple[str, ...]] = {("dingtalk", "mode"): ("http", "stream")}
# kf keys taken from the wecom section when not given.
KF_INHERITS = ("corp_id", "token", "aes_key")


def env_name(school_code: str, platform: str, key: str) -> str:
    """Return the environment variable of one key, e.g. LIANXIN_DEMO_PRIMARY_WECOM_AES_KEY."""
    return f"{ENV_PREFIX}{school_code.upper().replace('-', '_')}_{platform.upper()}_{key.upper()}"


def secret_keys(cls: type) -> list[str]:
    """Return the names of a credentials class's secret fields."""
    return [f.name for f in dataclasses.fields(cls) if f.metadata.get("secret")]


def env_layer(environ: Mapping[str, str], *raw_layers: Any) -> dict[str, Any]:
    """Collect the environment values of every school's configured platforms.

    ``raw_layers`` are the ``platforms`` mappings that name schools and
    platforms (files, test overrides); only those are looked up.
    """
    configured: dict[str, set[str]] = {}
    for raw in raw_layers:
        for code, platforms in (raw or {}).items() if isinstance(raw, Mapping) else ():
            if isinstance(platforms, Mapping):
                configured.setdefault(str(code), set()).update(str(p) for p in platforms)
    layer: dict[str, Any] = {}
    for code, platforms in configured.items():
        for platform, cls in PLATFORM_CLASSES.items():
            if platform not in platforms:
                continue
            names = [f.name for f in dataclasses.fields(cls)] + [k for p, k in WITHDRAWN if p == platform]
            for name in names:
                value = environ.get(env_name(str(code), platform, name))
                if value is not None:
                    layer.setdefault(str(code), {}).setdefault(platform, {})[name] = value
    return layer


def refuse_committed_secrets(committed: Any, source: str) -> None:
    """Fail if a secret was written into the committed defaults file."""
    if not isinstance(committed, Mapping):
        return
    for code, platforms in committed.items():
        for platform, cls in PLATFORM_CLASSES.items():
            section = platforms.get(platform) if isinstance(platforms, Mapping) else None
            if isinstance(section, Mapping):
                for key in secret_keys(cls):
                    if section.get(key):
                        raise SettingsError(
                            f"platforms.{code}.{platform}.{key}",
                            f"is a secret: set {env_name(str(code), platform, key)} instead of {source}",
                        )


def build_platforms(raw_platforms: Any, reserved_prefixes: frozenset[str] = frozenset()) -> dict[str, PlatformCredentials]:
    """Validate the merged ``platforms`` mapping into typed credentials.

    Args:
        raw_platforms: ``{school_code: {platform: {key: value}}}`` from every layer.
        reserved_prefixes: settings section names a school code must not start with
            (their environment variables would be taken for that section's).

    Raises:
        SettingsError: naming the key or the environment variable to set.
    """
    if raw_platforms in (None, ""):
        return {}
    if not isinstance(raw_platforms, Mapping):
        raise SettingsError("platforms", "must be a mapping of school codes")
    result: dict[str, PlatformCredentials] = {}
    for code, platforms in raw_platforms.items():
        code = str(code)
        if not _CODE.match(code):
            raise SettingsError(f"platforms.{code}", "school code must be lower-case letters, digits, - or _")
        env_code = code.replace("-", "_")
        clash = next((p for p in reserved_prefixes if env_code.startswith(p + "_") or env_code == p), None)
        if clash:
            raise SettingsError(f"platforms.{code}", f"school code clashes with the settings section {clash!r}")
        if platforms is None:
            platforms = {}
        if not isinstance(platforms, Mapping):
            raise SettingsError(f"platforms.{code}", "must be a mapping of platforms")
        unknown = sorted(set(platforms) - set(PLATFORM_CLASSES))
        if unknown:
            raise SettingsError(f"platforms.{code}.{unknown[0]}", f"is not a platform ({', '.join(PLATFORM_CLASSES)})")
        given = {p: dict(v or {}) for p, v in platforms.items()}
        if "wecom_kf" in given and "wecom" in given:
            for key in KF_INHERITS:
                given["wecom_kf"].setdefault(key, given["wecom"].get(key, ""))
        built = {p: _build_one(code, p, given[p]) for p in given}
        result[code] = PlatformCredentials(school_code=code, **built)
    return result


def _build_one(code: str, platform: str, given: Mapping[str, Any]) -> Any:
    cls = PLATFORM_CLASSES[platform]
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    for key in given:
        if (platform, key) in WITHDRAWN and given[key]:
            raise SettingsError(f"platforms.{code}.{platform}.{key}", WITHDRAWN[(platform, key)])
    unknown = sorted(set(given) - set(fields) - {k for p, k in WITHDRAWN if p == platform})
    if unknown:
        raise SettingsError(f"platforms.{code}.{platform}.{unknown[0]}", "is not a known setting")
    values: dict[str, Any] = {}
    for name, field in fields.items():
        value = given.get(name)
        if hints[name] == tuple[str, ...]:
            items = value.split(",") if isinstance(value, str) else list(value or ())
            values[name] = tuple(str(i).strip() for i in items if str(i).strip())
            continue
        if hints[name] is bool:
            flag = "" if value is None else str(value).strip().lower()
            if flag not in _TRUE | _FALSE:
                raise SettingsError(f"platforms.{code}.{platform}.{name}", "must be true or false")
            values[name] = flag in _TRUE
            continue
        if value is None and field.default not in (dataclasses.MISSING, ""):
            values[name] = field.default
            continue
        text = "" if value is None else str(value).strip()
        choices = CHOICES.get((platform, name))
        if choices and text and text not in choices:
            raise SettingsError(f"platforms.{code}.{platform}.{name}", f"must be one of {', '.join(choices)}")
        if choices and not text:
            text = str(field.default)
        required = field.default is dataclasses.MISSING or (
            field.metadata.get("secret") and (platform, name) not in OPTIONAL_SECRETS
        )
        if required and not text:
            where = env_name(code, platform, name) if field.metadata.get("secret") else f"platforms.{code}.{platform}.{name}"
            raise SettingsError(where, f"is required for {platform} of school {code!r}")
        values[name] = text
    for name in ("aes_key",):
        if values.get(name) and len(values[name]) != 43:
            raise SettingsError(env_name(code, platform, name), "must be the 43-character EncodingAESKey")
    built = cls(**values)
    if platform == "wechat":
        _check_wechat(code, built)
    return built
