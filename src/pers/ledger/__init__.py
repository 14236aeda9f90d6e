"""The ledger: the only writer of value. Double-entry postings and holder balances."""
