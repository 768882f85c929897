"""Errors raised while loading configuration."""


class SettingsError(Exception):
    """A setting is missing or invalid; the message names the key."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"配置错误 / invalid setting {key}: {problem}")
        self.key = key
        self.problem = problem
