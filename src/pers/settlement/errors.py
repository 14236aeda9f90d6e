from __future__ import annotations

from pers.errors import Conflict, NotFound


class IntentNotFound(NotFound):
    code = "TRANSACTION_NOT_FOUND"
    title = "Transaction not found"


class IntentNotFailed(Conflict):
    code = "TRANSACTION_NOT_FAILED"
    title = "Only a failed transaction can be queued again"
