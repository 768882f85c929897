"""The web simulator (demo schools only, off in production): its page and chat API, and its channel."""
