"""WeChat Official Account (公众号): its callback, its channel (customer service / template messages) and its API client."""
