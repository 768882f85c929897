"""Platform error codes an administrator can fix, translated into the console step that fixes them.

Used by ``platforms check`` (the setup doctor), ``roster sync`` and for
failed outbox rows. Codes and their meaning: WeCom 全局错误码
(developer.work.weixin.qq.com/document/path/90313), the Official Account's
global return codes, DingTalk's error codes; see docs/platforms.md §8.
"""

from __future__ import annotations

# WeCom (企业微信): errcode → what to do in the admin console (work.weixin.qq.com).
WECOM = {
    "40013": "企业ID（CorpID）不正确：在「我的企业 → 企业信息」复制企业ID，填到 platforms.<学校代码>.wecom.corp_id。",
    "40001": "应用 Secret 不正确：在「应用管理 → 自建应用 → 本应用 → Secret」查看后设置到对应的环境变量"
             "（LIANXIN_<学校代码>_WECOM_SECRET 或 ..._WECOM_KF_SECRET）。",
    "40056": "AgentId 不正确：在「应用管理 → 自建应用 → 本应用」查看 AgentId，填到 platforms.<学校代码>.wecom.agent_id。",
    "60020": "服务器 IP 不是「企业可信IP」：在「应用管理 → 自建应用 → 本应用 → 企业可信IP」添加本服务器的出口 IP"
             "（2022 年 6 月后创建的应用必须设置；需先配置可信域名或接收消息的 URL）。",
    "48002": "应用没有调用该接口的权限：家校通讯录和学校通知需在「家校沟通 → API」把本应用设为"
             "「可调用接口的应用」（读取家校通讯录）；微信客服需在「微信客服 → API」把本应用设为可调用接口的应用。",
    "60011": "应用的权限范围不够：在「应用管理 → 本应用 → 可见范围」加入相关部门，家校沟通接口需在「家校沟通 → API」授权本应用。",
    "45009": "接口调用次数超过平台限制：稍后再试。",
    "95000": "微信客服账号不可用：在「微信客服」确认账号存在，并把 open_kfid 填到 platforms.<学校代码>.wecom_kf.open_kfids。",
    "95004": "open_kfid 不正确：在「微信客服 → 账号」核对，填到 platforms.<学校代码>.wecom_kf.open_kfids。",
}
# WeChat Official Account (公众号): errcode → what to do at mp.weixin.qq.com.
WECHAT = {
    "40164": "服务器 IP 不在公众号的「IP白名单」中：在「设置与开发 → 基本配置 → 公众号开发信息 → IP白名单」添加本服务器的出口 IP。",
    "40013": "AppID 不正确：在「设置与开发 → 基本配置」复制开发者ID(AppID)，填到 platforms.<学校代码>.wechat.app_id。",
    "40125": "AppSecret 不正确：在「设置与开发 → 基本配置」重置并设置 LIANXIN_<学校代码>_WECHAT_SECRET。",
    "40001": "AppSecret 不正确或已重置：在「设置与开发 → 基本配置」查看并设置 LIANXIN_<学校代码>_WECHAT_SECRET。",
    "48001": "公众号没有该接口的权限：模板消息和客服消息需要已认证的服务号。",
    "45009": "接口调用次数超过平台限制：稍后再试。",
}
# DingTalk (钉钉): error code → what to do at open-dev.dingtalk.com.
DINGTALK = {
    "Forbidden.AccessDenied.AccessTokenPermissionDenied":
        "应用没有该接口的权限：在钉钉开发者后台「本应用 → 开发配置 → 权限管理」申请权限"
        "（机器人单聊和群聊发消息需「企业内机器人发送消息权限」qyapi_robot_sendmsg），并重新发布应用。",
    "Forbidden.AccessDenied.IpNotInWhiteList":
        "服务器 IP 不在应用的「服务器出口IP」白名单中：在钉钉开发者后台「本应用 → 开发配置 → 安全设置」添加本服务器的出口 IP。",
    "invalidClientIdOrSecret": "AppKey 或 AppSecret 不正确：在钉钉开发者后台「本应用 → 凭证与基础信息」核对 Client ID（AppKey）和"
                               " Client Secret（AppSecret），设置 LIANXIN_<学校代码>_DINGTALK_APP_SECRET。",
    "robot_unpublished": "机器人未发布或已停用：在钉钉开发者后台「本应用 → 机器人」点击「发布」，发布后群里 @ 机器人和私聊才能收到回复。",
}
TABLES = {"wecom": WECOM, "wecom_kf": WECOM, "wecom_app": WECOM, "wecom_school": WECOM, "wechat": WECHAT,
          "dingtalk": DINGTALK}
_UNPUBLISHED_HINTS = ("机器人不存在", "robot not exist", "robot does not exist", "机器人未发布", "robotCode")


def action(platform: str, code: str | None, message: str = "") -> str | None:
    """Return the console step for a platform error code, or None when there is nothing an admin can do."""
    table = TABLES.get(platform, {})
    if code and code in table:
        return table[code]
    if platform == "dingtalk" and code and ("AppKey" in code or "appSecret" in code or "ClientSecret" in code
                                            or "clientId" in code.lower()):
        return DINGTALK["invalidClientIdOrSecret"]
    if platform == "dingtalk" and any(hint in message for hint in _UNPUBLISHED_HINTS):
        return DINGTALK["robot_unpublished"]
    return None


def explain(platform: str, code: str | None, message: str) -> str:
    """Return one Chinese line: the platform's code and, when known, what to do."""
    step = action(platform, code, message)
    head = f"平台返回错误码 {code}" if code else "平台请求失败"
    return f"{head}：{step}" if step else f"{head}（{message[:200]}）"
