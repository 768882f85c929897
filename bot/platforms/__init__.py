"""Platform adapters: one package per platform (webhook, channel, client), shared code in ``common``."""
