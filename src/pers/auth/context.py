"""The resolved identity of a request, passed explicitly to every service."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pers.errors import Forbidden
from pers.kit.enums import Environment


class PrincipalKind(StrEnum):
    ANONYMOUS = "anonymous"  # no credentials at all (open tenant sign-up only)
    PUBLIC = "public"  # a project key alone: the tenant is known, nobody is authenticated
    PLATFORM = "platform"  # the deployment operator (PERS_PLATFORM_API_KEY)
    ADMIN = "admin"  # a tenant admin (admin login session or the tenant admin JWT)
    SYSTEM = "system"  # the tenant's own systems (tenant system API key)
    BUSINESS = "business"  # a partner business (business API key)
    USER = "user"  # an end user (PERS access token)


@dataclass(frozen=True)
class Principal:
    kind: PrincipalKind
    # admin id, api key id, business id or user id; None for PUBLIC, PLATFORM and the tenant
    # admin JWT (which stands for the tenant itself, not a person).
    id: uuid.UUID | None = None
    admin_type: str | None = None

    @property
    def scope(self) -> str:
        return f"{self.kind}:{self.id or '-'}"


@dataclass(frozen=True)
class RequestContext:
    tenant_id: uuid.UUID | None
    environment: Environment | None
    principal: Principal
    now: datetime
    request_id: str

    @property
    def tenant(self) -> uuid.UUID:
        """The tenant, for services that only run inside one (every tenant-scoped one)."""
        if self.tenant_id is None:
            raise Forbidden("this operation needs a tenant (send x-project-key)")
        return self.tenant_id

    @property
    def env(self) -> Environment:
        if self.environment is None:
            raise Forbidden("this operation needs an environment (send x-project-key)")
        return self.environment

    @property
    def is_owner_admin(self) -> bool:
        """The tenant admin JWT, or a SUPER_ADMIN: may manage admins and issue credentials."""
        p = self.principal
        return p.kind is PrincipalKind.ADMIN and (p.id is None or p.admin_type == "SUPER_ADMIN")
