"""Deterministic custodial wallets: one address per (tenant, owner) known before any chain work."""
