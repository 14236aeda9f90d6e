"""Token contracts (credits, status, rewards), their item metadata and token types."""
