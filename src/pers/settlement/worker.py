"""``pers worker`` and the worker thread of ``pers serve``: a relayer on a runtime of its own."""

from __future__ import annotations

import asyncio
import logging
import threading

from pers.bootstrap import DatabaseUrls, build_runtime
from pers.deployment import Deployment
from pers.settlement.relayer import Relayer

log = logging.getLogger("pers.settlement")


async def _run(deployment: Deployment, urls: DatabaseUrls, stop: threading.Event) -> None:
    runtime = build_runtime(deployment, urls)
    stopping = asyncio.Event()

    async def watch() -> None:
        await asyncio.to_thread(stop.wait)
        stopping.set()

    watcher = asyncio.create_task(watch())
    try:
        await Relayer(runtime).run(stopping)
    finally:
        watcher.cancel()
        await runtime.close()


def run_worker(deployment: Deployment, urls: DatabaseUrls, stop: threading.Event) -> None:
    """Settle until ``stop`` is set (blocks)."""
    log.info("settlement worker started")
    asyncio.run(_run(deployment, urls, stop))
    log.info("settlement worker stopped")


def start_worker_thread(
    deployment: Deployment, urls: DatabaseUrls
) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(
        target=run_worker, args=(deployment, urls, stop), name="pers-settlement", daemon=True
    )
    thread.start()
    return thread, stop
