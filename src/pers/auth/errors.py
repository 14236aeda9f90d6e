from __future__ import annotations

from pers.errors import BadRequest, Forbidden, PersError, Unauthorized


class InvalidProjectKey(Unauthorized):
    code = "INVALID_PROJECT_KEY"
    title = "Unknown project key"


class InvalidToken(Unauthorized):
    code = "INVALID_TOKEN"
    title = "Invalid or expired token"


class InvalidApiKey(Unauthorized):
    code = "INVALID_API_KEY"
    title = "Invalid or revoked API key"


class MissingCredentials(Unauthorized):
    code = "MISSING_CREDENTIALS"
    title = "Credentials required"


class TenantMismatch(Unauthorized):
    code = "TENANT_MISMATCH"
    title = "Credentials belong to another tenant"


class EnvironmentMismatch(Unauthorized):
    code = "ENVIRONMENT_MISMATCH"
    title = "The token was issued for the other environment than the project key's"


class PrincipalNotAllowed(Forbidden):
    code = "PRINCIPAL_NOT_ALLOWED"
    title = "This operation is not open to the calling principal"


class OwnerAdminRequired(Forbidden):
    code = "OWNER_ADMIN_REQUIRED"
    title = "Only a SUPER_ADMIN or the tenant admin JWT may do this"


class GuestLoginDisabled(Forbidden):
    code = "GUEST_LOGIN_DISABLED"
    title = "This tenant does not allow sessions for unauthenticated users"


class AuthTypeNotSupported(BadRequest):
    code = "AUTH_TYPE_NOT_SUPPORTED"
    title = "This authType cannot be exchanged here"


class IdentityProviderNotConfigured(Unauthorized):
    code = "IDENTITY_PROVIDER_NOT_CONFIGURED"
    title = "The token's issuer is not an identity provider of this tenant"


class IdentityProviderUnavailable(PersError):
    status = 503
    code = "IDENTITY_PROVIDER_UNAVAILABLE"
    title = "The identity provider's keys could not be fetched"
    category = "INFRASTRUCTURE"
    retryable = True


class AdminNotFound(Unauthorized):
    code = "ADMIN_NOT_FOUND"
    title = "No active admin of this tenant has the token's verified e-mail"


class UserInactive(Unauthorized):
    code = "USER_INACTIVE"
    title = "The user is deactivated"


class RefreshTokenReused(Unauthorized):
    code = "REFRESH_TOKEN_REUSED"
    title = "Refresh token already used; the session has been revoked"
    commit_effects = True  # the family revocation must persist although the call fails
