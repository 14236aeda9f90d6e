"""Transactions: the records of every movement of value, and the API that moves it."""
