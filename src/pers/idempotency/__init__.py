"""Idempotency-Key handling for every POST (DESIGN section 5)."""
