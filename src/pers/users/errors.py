from __future__ import annotations

from typing import ClassVar

from pers.errors import Conflict, Forbidden, NotFound, ValidationFailed


class UserNotFound(NotFound):
    code = "USER_NOT_FOUND"
    title = "User not found"


class UserIdentifierTaken(Conflict):
    """Another user of the tenant already has this e-mail, externalId or instagramAccountId."""

    code = "USER_IDENTIFIER_TAKEN"
    title = "Another user already has this identifier"
    field: ClassVar[str] = ""

    def __init__(self) -> None:
        super().__init__(
            f"another user of this tenant already has this {self.field}", field=self.field
        )


class UserEmailTaken(UserIdentifierTaken):
    code = "USER_EMAIL_TAKEN"
    title = "Another user already has this e-mail"
    field = "email"


class UserExternalIdTaken(UserIdentifierTaken):
    code = "USER_EXTERNAL_ID_TAKEN"
    title = "Another user already has this externalId"
    field = "externalId"


class UserInstagramAccountIdTaken(UserIdentifierTaken):
    code = "USER_INSTAGRAM_ACCOUNT_ID_TAKEN"
    title = "Another user already has this instagramAccountId"
    field = "instagramAccountId"


class UserFieldNotEditable(Forbidden):
    """Users change their profile, not the identifiers value is sent to (see docs/users.md)."""

    code = "USER_FIELD_NOT_EDITABLE"
    title = "Only an admin can change this field"

    def __init__(self, field: str) -> None:
        super().__init__(f"{field} can only be changed by an admin", field=field)


class InvalidUserIdentifier(ValidationFailed):
    code = "INVALID_USER_IDENTIFIER"
    title = "The user identifier value is not valid"


class UserStatusTypeNotFound(NotFound):
    code = "USER_STATUS_TYPE_NOT_FOUND"
    title = "User status type not found"


class UserStatusTypeNameTaken(Conflict):
    code = "USER_STATUS_TYPE_NAME_TAKEN"
    title = "A user status type with this name already exists"


class CannotManageUsers(Forbidden):
    code = "BUSINESS_CANNOT_MANAGE_USERS"
    title = "This business may not look users up (canManageUsers is off)"
