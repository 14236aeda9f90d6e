"""Redemptions: exchanging credits for rewards (seed 001 Redemption module)."""
