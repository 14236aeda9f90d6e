from __future__ import annotations

from pers.errors import Conflict, NotFound


class DeploymentNotFound(NotFound):
    code = "DEPLOYMENT_NOT_FOUND"
    title = "Contract deployment not found"


class DeploymentFinished(Conflict):
    code = "DEPLOYMENT_FINISHED"
    title = "The contract deployment already ended otherwise"
