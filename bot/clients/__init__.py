"""Platform API clients: WeCom and the Official Account through wechatpy, DingTalk our own.

Base URLs come from settings (tests point them at fake servers); tokens are
cached in the database so every process shares one; errors become the typed
exceptions of ``bot.exceptions``.
"""
