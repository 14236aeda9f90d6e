"""Tenant administrators (people who log in through the tenant's identity providers)."""
