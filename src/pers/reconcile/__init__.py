"""``pers reconcile``: the settled ledger against the chains (see docs/reconcile.md)."""
