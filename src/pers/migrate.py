"""Running Alembic from the ``pers`` command and from tests."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config

from pers.wallets.derivation import WalletDeriver

# Builds the deployment's wallet deriver, for migrations that derive addresses of existing rows
# (called only when such rows exist, so an empty database needs no key material).
WalletsFactory = Callable[[], WalletDeriver]

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(owner_url: str, app_role: str = "pers_app") -> Config:
    config = Config(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("version_locations", str(MIGRATIONS / "versions"))
    config.set_main_option("sqlalchemy.url", owner_url.replace("%", "%%"))
    os.environ["PERS_DB_APP_ROLE"] = app_role
    return config


def upgrade(
    owner_url: str,
    revision: str = "head",
    app_role: str = "pers_app",
    wallets: WalletsFactory | None = None,
) -> None:
    config = alembic_config(owner_url, app_role)
    config.attributes["wallets"] = wallets
    command.upgrade(config, revision)


def downgrade(owner_url: str, revision: str, app_role: str = "pers_app") -> None:
    command.downgrade(alembic_config(owner_url, app_role), revision)


def check(owner_url: str, app_role: str = "pers_app") -> None:
    """Fails when the models and the migrated schema differ (``alembic check``)."""
    command.check(alembic_config(owner_url, app_role))


def revision(owner_url: str, message: str) -> None:
    command.revision(alembic_config(owner_url), message=message, autogenerate=True)
