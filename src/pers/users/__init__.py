"""End users of a tenant and the external identities they log in with."""
