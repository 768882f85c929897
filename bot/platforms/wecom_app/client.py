"""WeCom (企业微信) API client: app messages, 学校通知, 微信客服 and group robots."""

from __future__ import annotations

from typing import Any

from wechatpy.enterprise import WeChatClient

from bot.platforms.common.errors import from_errcode, from_http, translate
from bot.platforms.common.wechatpy_client import ConfigurableClientMixin


class WeComClient(ConfigurableClientMixin, WeChatClient):
    """The wechatpy WeCom client with a configurable base URL and DB token storage."""

    TOKEN_PATH = "gettoken"

    def __init__(self, corp_id: str, secret: str, *, base_url: str, session: Any, timeout: float) -> None:
        super().__init__(corp_id, secret, session=session, timeout=timeout)
        self.API_BASE_URL = base_url

    def _token_params(self) -> dict[str, str]:
        return {"corpid": self.corp_id, "corpsecret": self.secret}

    def send_app(self, agent_id: int, userid: str, msgtype: str, body: dict[str, Any]) -> dict[str, Any]:
        """Send an app message (``message/send``) to one member, with WeCom's duplicate check."""
        data = {
            "touser": userid, "agentid": agent_id, "msgtype": msgtype, msgtype: body,
            "enable_duplicate_check": 1, "duplicate_check_interval": 1800,
        }
        return self._checked(self.call("message/send", data))

    def send_school_notice(self, agent_id: int, parent_userids: list[str], text: str) -> dict[str, Any]:
        """Send a 学校通知 (one-way) to parents in the school contacts."""
        data = {
            "recv_scope": 0, "to_parent_userid": parent_userids, "agentid": agent_id,
            "msgtype": "text", "text": {"content": text}, "enable_duplicate_check": 1,
        }
        return self._checked(self.call("externalcontact/message/send", data))

    def send_kf(self, open_kfid: str, external_userid: str, msgtype: str, body: dict[str, Any]) -> dict[str, Any]:
        """Reply to a 微信客服 customer (``kf/send_msg``; 5 messages within 48 h)."""
        data = {"touser": external_userid, "open_kfid": open_kfid, "msgtype": msgtype, msgtype: body}
        return self.call("kf/send_msg", data)

    def send_kf_welcome(self, code: str, text: str) -> dict[str, Any]:
        """Answer a 微信客服 enter_session event (``kf/send_msg_on_event``, its welcome_code, within 20 s)."""
        return self.call("kf/send_msg_on_event", {"code": code, "msgtype": "text", "text": {"content": text}})

    def send_webhook(self, key: str, body: dict[str, Any]) -> dict[str, Any]:
        """Post to a group robot (``webhook/send?key=``); no access token."""
        return self.post_url(self.API_BASE_URL + "webhook/send", body, key=key)

    def post_url(self, url: str, body: dict[str, Any], **params: str) -> dict[str, Any]:
        """POST JSON to a tokenless URL (group robot, AI-bot response_url); map the errcode."""
        try:
            res = self._http.post(url, params=params or None, json=body, timeout=self.timeout)
        except Exception as exc:  # network errors are transient
            raise translate(exc) from exc
        if res.status_code >= 400:
            raise from_http(res.status_code, res.text[:200])
        try:
            result = res.json()
        except ValueError:
            result = {}
        if isinstance(result, dict) and result.get("errcode"):
            raise from_errcode(int(result["errcode"]), str(result.get("errmsg")))
        return result if isinstance(result, dict) else {}

    @staticmethod
    def _checked(result: dict[str, Any]) -> dict[str, Any]:
        """Fail on recipients WeCom rejected inside a success answer (invaliduser, invalid_parent_userid)."""
        bad = result.get("invaliduser") or result.get("invalid_parent_userid")
        if bad:
            raise from_errcode(40031, f"invalid recipient {bad}")
        return result
