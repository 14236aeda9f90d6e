"""Claim tests reuse the Campaign tests' set-up helpers."""

from tests.campaigns.conftest import callers, programme

__all__ = ["callers", "programme"]
