"""WeChat Official Account (公众号) client: customer-service and template messages."""

from __future__ import annotations

from typing import Any

from wechatpy import WeChatClient

from bot.platforms.common.wechatpy_client import ConfigurableClientMixin


class OfficialAccountClient(ConfigurableClientMixin, WeChatClient):
    """The wechatpy OA client with a configurable base URL and DB token storage."""

    TOKEN_PATH = "token"

    def __init__(self, appid: str, secret: str, *, base_url: str, session: Any, timeout: float) -> None:
        super().__init__(appid, secret, session=session, timeout=timeout)
        self.API_BASE_URL = base_url

    def _token_params(self) -> dict[str, str]:
        return {"grant_type": "client_credential", "appid": self.appid, "secret": self.secret}

    def send_custom_text(self, openid: str, text: str) -> dict[str, Any]:
        """Send a customer-service text (5 within 48 h of the user's last message)."""
        return self.call("message/custom/send", {"touser": openid, "msgtype": "text", "text": {"content": text}})

    def send_custom(self, openid: str, msgtype: str, body: dict[str, Any]) -> dict[str, Any]:
        """Send a customer-service message of another type (``image`` with a ``media_id``)."""
        return self.call("message/custom/send", {"touser": openid, "msgtype": msgtype, msgtype: body})

    def send_template(self, openid: str, template_id: str, data: dict[str, Any], url: str | None = None
                      ) -> dict[str, Any]:
        """Send a template message (service accounts; no window)."""
        payload: dict[str, Any] = {"touser": openid, "template_id": template_id, "data": data}
        if url:
            payload["url"] = url
        return self.call("message/template/send", payload)

    def send_subscribe(self, openid: str, template_id: str, data: dict[str, Any], url: str | None = None
                       ) -> dict[str, Any]:
        """Send a subscribe message (订阅通知) to someone who subscribed; ``page`` is the web page it opens."""
        payload: dict[str, Any] = {"touser": openid, "template_id": template_id, "data": data}
        if url:
            payload["page"] = url
        return self.call("message/subscribe/bizsend", payload)
