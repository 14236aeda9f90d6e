"""From settings to a running Runtime: database (embedded or external), migrations, keys."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.engine import make_url

from pers.config import Settings
from pers.db import Database, FastPool, make_engine
from pers.deployment import Deployment, load_deployment
from pers.kit.clock import Clock, SystemClock
from pers.runtime import Runtime
from pers.wallets.derivation import WalletDeriver

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DatabaseUrls:
    owner: str
    app: str
    embedded: bool
    # True when ``app`` logs in as the app role itself; False when it logs in as the owner and
    # only switches role at connect (weaker: a session may SET ROLE back to its login).
    dedicated_app_login: bool


def database_urls(settings: Settings) -> DatabaseUrls:
    if settings.database_url is None:
        from pers.embedded import start_embedded

        owner = start_embedded(settings.data_dir)
        app = make_url(owner).set(username=settings.db_app_role).render_as_string(False)
        return DatabaseUrls(owner=owner, app=app, embedded=True, dedicated_app_login=True)
    if settings.app_database_url is None:
        log.warning(
            "PERS_APP_DATABASE_URL is unset: the API logs in as the schema owner and switches to "
            "%s; give it a login of its own for Row Level Security to hold against SET ROLE",
            settings.db_app_role,
        )
    return DatabaseUrls(
        owner=settings.database_url,
        app=settings.app_database_url or settings.database_url,
        embedded=False,
        dedicated_app_login=settings.app_database_url is not None,
    )


def prepare(settings: Settings) -> tuple[Deployment, DatabaseUrls]:
    """Keys and database ready; migrations applied where this process should apply them."""
    deployment = load_deployment(settings)
    urls = database_urls(settings)
    migrate_now = settings.run_migrations if settings.run_migrations is not None else urls.embedded
    if migrate_now:
        from pers import migrate

        migrate.upgrade(
            urls.owner,
            app_role=settings.db_app_role,
            wallets=lambda: WalletDeriver(deployment.master_secret),
        )
        log.info("migrations applied")
    if urls.embedded:
        from pers.embedded import enable_app_login

        enable_app_login(settings.data_dir, settings.db_app_role)
    return deployment, urls


def build_runtime(
    deployment: Deployment, urls: DatabaseUrls, clock: Clock | None = None
) -> Runtime:
    settings = deployment.settings
    role = None if urls.dedicated_app_login else settings.db_app_role
    engine = make_engine(urls.app, settings, role=role)
    fast = None
    if settings.fast_lane:
        fast_engine = make_engine(
            urls.app, settings, role=role, pool_size=settings.db_fast_pool_size
        )
        fast = FastPool(fast_engine, settings.db_fast_pool_size)
    return Runtime.build(deployment, Database(engine, fast), clock or SystemClock())
