"""Credentials to RequestContext: project keys, PERS JWTs, API keys, identity providers."""
