"""Fake platform API servers on 127.0.0.1: real HTTP, documented endpoints, injectable failures."""
