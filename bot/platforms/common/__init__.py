"""What several platforms share: the webhook frame, WeChat crypto, client errors, tokens, the channel base."""
