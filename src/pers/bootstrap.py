"""From settings to a running Runtime: database (embedded or external), migrations, keys."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pers.config import Settings
from pers.db import Database, make_engine
from pers.deployment import Deployment, load_deployment
from pers.kit.clock import Clock, SystemClock
from pers.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DatabaseUrls:
    owner: str
    app: str
    embedded: bool


def database_urls(settings: Settings) -> DatabaseUrls:
    if settings.database_url is None:
        from pers.embedded import start_embedded

        owner = start_embedded(settings.data_dir)
        return DatabaseUrls(owner=owner, app=owner, embedded=True)
    return DatabaseUrls(
        owner=settings.database_url,
        app=settings.app_database_url or settings.database_url,
        embedded=False,
    )


def prepare(settings: Settings) -> tuple[Deployment, DatabaseUrls]:
    """Keys and database ready; migrations applied where this process should apply them."""
    deployment = load_deployment(settings)
    urls = database_urls(settings)
    migrate_now = settings.run_migrations if settings.run_migrations is not None else urls.embedded
    if migrate_now:
        from pers import migrate

        migrate.upgrade(urls.owner, app_role=settings.db_app_role)
        log.info("migrations applied")
    return deployment, urls


def build_runtime(
    deployment: Deployment, urls: DatabaseUrls, clock: Clock | None = None
) -> Runtime:
    settings = deployment.settings
    # With a dedicated app login (PERS_APP_DATABASE_URL) no role switch is needed.
    role = None if settings.app_database_url else settings.db_app_role
    engine = make_engine(urls.app, settings, role=role)
    return Runtime.build(deployment, Database(engine), clock or SystemClock())
