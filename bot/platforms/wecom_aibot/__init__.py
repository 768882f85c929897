"""WeCom AI bot (智能机器人): its callback and its channel (response_url replies; API client: wecom_app's)."""
