"""Outbound delivery: the sender, batching, the send queue, platform limits and the channel registry."""
