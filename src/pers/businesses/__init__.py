"""Businesses: the tenant's partner network (business types, business accounts, their API keys
and wallet addresses)."""
