"""Balances: what an account holds, with the token details a wallet view needs."""
