"""WeCom self-built app (企业微信自建应用): its callback, the 家校通讯录 sync, its channels and the WeCom API client."""
