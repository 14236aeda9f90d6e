"""Chains (from settings) and the tenant's registry of web3 contracts on them."""
