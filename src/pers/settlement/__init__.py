"""Settlement: the relayer that makes the chain agree with the ledger (docs/settlement.md)."""
