"""`alembic check` against a database migrated to head on the embedded PostgreSQL (or
PERS_TEST_DATABASE_URL): fails when the models and the migrations disagree."""

from __future__ import annotations

import sys

from pers import migrate
from tests.conftest import _create_database, _server_url


def main() -> int:
    url = _create_database(_server_url(), "pers_alembic_check")
    migrate.upgrade(url)
    migrate.check(url)
    print("alembic check: models and migrations agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
