"""Wire-schema bases: camelCase on the wire, snake_case in Python."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _check_email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError("not an e-mail address")
    return value


Email = Annotated[str, Field(min_length=3, max_length=320), AfterValidator(_check_email)]


class WireModel(BaseModel):
    """Responses: camelCase aliases, built from attributes."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, from_attributes=True)


class WireInput(BaseModel):
    """Requests: camelCase, unknown fields rejected."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")
