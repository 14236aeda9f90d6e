from __future__ import annotations

from pers.errors import BusinessRuleViolation, Conflict, NotFound, ServiceUnavailable


class ChainNotFound(NotFound):
    code = "CHAIN_NOT_FOUND"
    title = "No chain with this id is configured"


class ChainNotConfigured(BusinessRuleViolation):
    code = "CHAIN_NOT_CONFIGURED"
    title = "The chain is not configured on this deployment"


class ContractNotFound(NotFound):
    code = "CONTRACT_NOT_FOUND"
    title = "Contract not found"


class ContractAlreadyRegistered(Conflict):
    code = "CONTRACT_ALREADY_REGISTERED"
    title = "The tenant already registered a contract at this address on this chain"


class ChainUnavailable(ServiceUnavailable):
    code = "CHAIN_UNAVAILABLE"
    title = "The chain could not be reached; try again"


class ChainEnvironmentMismatch(BusinessRuleViolation):
    code = "CHAIN_ENVIRONMENT_MISMATCH"
    title = "The chain does not serve this environment's side of a token"
