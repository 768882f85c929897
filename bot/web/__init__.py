"""The web pages people open: signed-link pages (notices, surveys, downloads), the web console, security headers."""
