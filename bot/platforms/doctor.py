"""The setup doctor behind ``flask platforms check``: what each platform lets us do, and what an admin must fix.

For every configured platform of a school it fetches a token and makes one
harmless read that fails the way sending would (企业可信IP, IP 白名单,
missing permissions), checks the settings the platforms' consoles need
(https ``base_url``, the callback URLs), looks at the school's 「家长可使用的
应用」 scope for 学校通知, and translates the platform error codes of recent
permanently failed outbox rows. Every problem comes with the console step
that fixes it (``bot.platforms.common.error_texts``).
"""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import urlsplit

import requests
from sqlalchemy import select

from bot.exceptions import SendError
from bot.platforms.common.error_texts import action, explain
from bot.platforms.common.tokens import DBTokenStorage
from bot.platforms.dingtalk.client import DingTalkClient
from bot.platforms.wechat.client import OfficialAccountClient
from bot.platforms.wecom_app.client import WeComClient

NAMES = {"app": "连心服务", "dingtalk": "钉钉", "wecom": "企业微信自建应用", "wecom_kf": "微信客服",
         "wecom_aibot": "企业微信智能机器人", "wechat": "公众号", "wecom_school": "学校通知/家校通讯录"}


@dataclasses.dataclass(frozen=True)
class Finding:
    """One line of the report: ✓ something works, or ✗ what is wrong and the console step that fixes it."""

    platform: str
    ok: bool
    text: str
    fix: str | None = None


class Doctor:
    """Check one school's platforms with real client calls (base URLs from settings; fakes in tests)."""

    def __init__(self, ext: Any, session: Any, code: str) -> None:
        self.ext, self.db, self.code = ext, session, code
        self.creds = ext.settings.platforms[code]
        self.api = ext.settings.platform_api
        self.findings: list[Finding] = []

    def ok(self, platform: str, text: str) -> None:
        self.findings.append(Finding(platform, True, text))

    def bad(self, platform: str, text: str, fix: str | None) -> None:
        self.findings.append(Finding(platform, False, text, fix))

    def failed(self, platform: str, what: str, exc: SendError, table: str | None = None) -> None:
        """Record a refused call with the platform's code translated."""
        self.bad(platform, f"{what}失败：{explain(table or platform, exc.code, str(exc))}",
                 action(table or platform, exc.code, str(exc)))

    def run(self) -> list[Finding]:
        """Run every check that applies to the school; return the findings in order."""
        self.callbacks()
        for platform in ("dingtalk", "wecom", "wecom_kf", "wechat", "wecom_aibot"):
            if getattr(self.creds, platform) is not None:
                getattr(self, platform)()
        self.recent_failures()
        return self.findings

    # -- settings the consoles need ----------------------------------------------------------
    def callbacks(self) -> None:
        base = self.ext.settings.app.base_url.rstrip("/")
        parts = urlsplit(base)
        callback_platforms = [p for p in ("wecom", "wecom_kf", "wecom_aibot", "wechat") if getattr(self.creds, p)]
        if self.creds.dingtalk is not None and self.creds.dingtalk.mode == "http":
            callback_platforms.append("dingtalk")
        if not callback_platforms:
            return
        local = parts.hostname in (None, "localhost") or (parts.hostname or "").startswith("127.")
        if parts.scheme != "https" or local:
            self.bad("app", f"app.base_url 是 {base}：平台只能回调公网可访问的地址",
                     "设置 LIANXIN_APP_BASE_URL 为学校服务器的公网 https 地址（nginx 等反向代理负责证书），"
                     "再在各平台后台填写上面列出的回调 URL；没有公网地址的学校可用钉钉 Stream 模式。")
        else:
            self.ok("app", f"app.base_url 为 {base}")
        paths = {"dingtalk": f"/dingtalk/{self.code}/callback", "wecom": f"/wecom/{self.code}/app",
                 "wecom_kf": f"/wecom/{self.code}/kf", "wecom_aibot": f"/wecom/{self.code}/aibot",
                 "wechat": f"/wechat/{self.code}"}
        for platform in callback_platforms:
            self.ok(platform, f"回调 URL（在后台填写）：{base}{paths[platform]}")

    # -- DingTalk --------------------------------------------------------------------------------
    def dingtalk(self) -> None:
        creds = self.creds.dingtalk
        client = DingTalkClient(creds.app_key, creds.app_secret, creds.robot_code,
                                storage=DBTokenStorage(self.db, self.ext.now), base_url=self.api.dingtalk_api,
                                timeout=self.api.timeout_seconds)
        try:
            client.access_token(refresh=True)
        except SendError as exc:
            fix = action("dingtalk", exc.code, str(exc))
            if fix is None and exc.code not in ("network",) and not (exc.code or "").startswith("http_5"):
                fix = action("dingtalk", "invalidClientIdOrSecret")
            self.bad("dingtalk", f"获取 access_token 失败：{explain('dingtalk', exc.code, str(exc))}", fix)
            return
        self.ok("dingtalk", "获取 access_token 成功（AppKey/AppSecret 正确）")
        if creds.mode == "stream":
            self.dingtalk_stream(creds)

    def dingtalk_stream(self, creds: Any) -> None:
        body = {"clientId": creds.app_key, "clientSecret": creds.app_secret,
                "subscriptions": [{"type": "CALLBACK", "topic": "/v1.0/im/bot/messages/get"}],
                "ua": "lianxin platforms check", "localIp": ""}
        try:
            res = requests.post(self.api.dingtalk_api.rstrip("/") + "/v1.0/gateway/connections/open", json=body,
                                timeout=self.api.timeout_seconds)
            granted = res.status_code < 400 and bool(res.json().get("ticket"))
        except (requests.RequestException, ValueError):
            granted = False
        if granted:
            self.ok("dingtalk", "Stream 网关接受了连接请求：运行 flask --app app dingtalk-stream 即可收消息")
        else:
            self.bad("dingtalk", "Stream 网关没有发放连接凭证",
                     "在钉钉开发者后台「本应用 → 机器人」把消息接收模式设为「Stream 模式」并发布；"
                     "本服务器需能访问 api.dingtalk.com 和 wss 连接。")

    # -- WeCom ---------------------------------------------------------------------------------
    def wecom_client(self, corp_id: str, secret: str) -> WeComClient:
        return WeComClient(corp_id, secret, base_url=self.api.wecom_api,
                           session=DBTokenStorage(self.db, self.ext.now), timeout=self.api.timeout_seconds)

    def token(self, platform: str, client: Any, table: str) -> bool:
        try:
            client.fetch_access_token()
        except Exception as exc:  # wechatpy raises its own exceptions: translate them
            from bot.platforms.common.errors import translate

            self.failed(platform, "获取 access_token ", translate(exc), table)
            return False
        self.ok(platform, "获取 access_token 成功")
        return True

    def wecom(self) -> None:
        creds = self.creds.wecom
        client = self.wecom_client(creds.corp_id, creds.secret)
        if not self.token("wecom", client, "wecom"):
            return
        try:
            client.call_get("agent/get", agentid=creds.agent_id)
        except SendError as exc:
            self.failed("wecom", "读取应用信息（agent/get）", exc, "wecom")
            return
        self.ok("wecom", "可以调用应用接口（企业可信IP 已包含本服务器）")
        self.school_scope(client, creds)

    def school_scope(self, client: Any, creds: Any) -> None:
        """学校通知 reaches only parents in the app's 「家长可使用的应用」 scope."""
        try:
            scope = client.call_get("school/agent/get_allow_scope", agentid=creds.agent_id).get("allow_scope") or {}
        except SendError as exc:
            if creds.school_notice:
                self.failed("wecom_school", "读取「家长可使用的应用」范围", exc, "wecom")
            return
        reach = (scope.get("students") or {}).get("userid") or (scope.get("departments") or {}).get("partyid")
        if reach:
            self.ok("wecom_school", "本应用在「家长可使用的应用」中，可以发学校通知")
        elif creds.school_notice:
            self.bad("wecom_school", "本应用不在「家长可使用的应用」中（可用范围为空）：学校通知发不出去",
                     "在企业微信管理后台「家校沟通 → 配置 → 家长可使用的应用」添加本应用，并把可使用范围设为全校或相应班级。")

    def wecom_kf(self) -> None:
        creds = self.creds.wecom_kf
        client = self.wecom_client(creds.corp_id, creds.secret)
        if not self.token("wecom_kf", client, "wecom"):
            return
        try:
            accounts = client.call("kf/account/list", {"offset": 0, "limit": 100}).get("account_list") or []
        except SendError as exc:
            self.failed("wecom_kf", "读取客服账号（kf/account/list）", exc, "wecom")
            return
        have = {str(a.get("open_kfid")) for a in accounts if isinstance(a, dict)}
        missing = [k for k in creds.open_kfids if k not in have]
        if missing:
            self.bad("wecom_kf", f"配置的客服账号不存在：{'、'.join(missing)}",
                     f"在「微信客服 → 账号」核对 open_kfid（现有：{'、'.join(sorted(have)) or '无'}），改正 "
                     f"platforms.{self.code}.wecom_kf.open_kfids。")
        else:
            self.ok("wecom_kf", f"客服账号可用（{len(have)} 个）")

    def wechat(self) -> None:
        creds = self.creds.wechat
        client = OfficialAccountClient(creds.app_id, creds.secret, base_url=self.api.wechat_api,
                                       session=DBTokenStorage(self.db, self.ext.now), timeout=self.api.timeout_seconds)
        self.token("wechat", client, "wechat")

    def wecom_aibot(self) -> None:
        self.ok("wecom_aibot", "智能机器人没有可主动检查的接口：在后台保存回调 URL 时平台会校验（1 秒内应答）")

    # -- what sending already ran into -----------------------------------------------------------
    def recent_failures(self, limit: int = 50) -> None:
        from models.directory import School
        from models.outbox import OutboxMessage, OutboxStatus

        school_id = self.db.scalar(select(School.id).where(School.code == self.code))
        rows = self.db.scalars(
            select(OutboxMessage).where(OutboxMessage.school_id == school_id, OutboxMessage.status == OutboxStatus.FAILED,
                                        OutboxMessage.error_code.is_not(None))
            .order_by(OutboxMessage.id.desc()).limit(limit)).all()
        seen: set[tuple[str, str]] = set()
        for row in rows:
            platform = row.platform.split("_")[0] if row.platform.startswith("wecom") else row.platform
            fix = action(platform, row.error_code, row.last_error or "")
            if fix is None or (platform, fix) in seen:
                continue
            seen.add((platform, fix))
            self.bad(row.platform, f"最近发送失败（错误码 {row.error_code}，outbox #{row.id}）", fix)


def check(ext: Any, code: str) -> list[Finding]:
    """Run the doctor for one school (its own session; tokens it fetches are cached like the sender's)."""
    with ext.sessionmaker() as db:
        findings = Doctor(ext, db, code).run()
        db.commit()
    return findings


def render(code: str, name: str, findings: list[Finding]) -> str:
    """Return the Chinese report for one school: each check, then the numbered actions."""
    lines = [f"学校 {code}（{name}）"]
    for f in findings:
        lines.append(f"  [{'✓' if f.ok else '✗'}] {NAMES.get(f.platform, f.platform)}：{f.text}")
    fixes = [f for f in findings if not f.ok and f.fix]
    if fixes:
        lines.append("  需要管理员处理：")
        lines += [f"    {i}. {NAMES.get(f.platform, f.platform)}：{f.fix}" for i, f in enumerate(fixes, 1)]
    elif all(f.ok for f in findings):
        lines.append("  一切正常。")
    return "\n".join(lines)
