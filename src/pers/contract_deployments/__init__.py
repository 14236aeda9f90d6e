"""Contract deployments: an admin's request that pers deploy a token contract for the tenant."""
