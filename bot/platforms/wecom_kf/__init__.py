"""微信客服 (WeCom kf): its callback and message pull, its channel (the API client is wecom_app's)."""
