"""``create_app(settings)``: the FastAPI app of ``tradecore serve``."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from tradecore import __version__
from tradecore.service.problems import Problems, problems_handler, unexpected_handler, validation_handler
from tradecore.service.settings import ServiceSettings

STATIC = Path(__file__).parent / "static"
PAGES = {
    "/data": "data.html",
    "/runs": "runs.html",
    "/run": "run.html",
    "/compare": "compare.html",
    "/start": "start.html",
}


def create_app(settings: ServiceSettings, runtime: Any = None) -> FastAPI:
    """The app over ``settings``' lake and runs root; worker processes start with it and stop with it, and load the
    plugins ``runtime`` loaded (its controls: ``tradecore --disable X serve`` disables X in the workers too)."""
    from tradecore.data.jobs import JobStore
    from tradecore.data.lake import Lake
    from tradecore.runtime import Runtime
    from tradecore.service.events import EventHub
    from tradecore.service.lake_cache import LakeCache
    from tradecore.service.runs_api import RunRows
    from tradecore.service.state import ServiceState
    from tradecore.service.workers import Supervisor

    settings.check()
    lake, jobs = Lake(settings.lake), JobStore(settings.lake)
    runtime = runtime or Runtime.from_environment()
    svc = ServiceState(
        settings=settings,
        runtime=runtime,
        lake=lake,
        jobs=jobs,
        supervisor=Supervisor(settings.lake, settings.runs, settings.workers, runtime.controls.as_environment()),
        events=EventHub(settings.poll_s),
        cache=LakeCache(lake, jobs),
        run_rows=RunRows(settings.runs),
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        orphans = svc.supervisor.start()
        if orphans:
            print(f"jobs {', '.join(map(str, orphans))} had lost their process: marked interrupted (resumable)")
        watcher = asyncio.create_task(svc.events.run(svc))
        # the runs table's rows read once in the background, so the first visit finds them cached
        threading.Thread(target=_quietly, args=(svc.run_rows.all,), name="tradecore-runs-warm", daemon=True).start()
        try:
            yield
        finally:
            watcher.cancel()
            await asyncio.to_thread(svc.supervisor.stop)

    app = FastAPI(
        title="tradecore",
        version=__version__,
        description="Data jobs, coverage, downloads and runs of one lake and one runs root.",
        lifespan=lifespan,
    )
    app.state.service = svc
    app.add_exception_handler(RequestValidationError, validation_handler)
    app.add_exception_handler(Problems, problems_handler)
    app.add_exception_handler(Exception, unexpected_handler)
    if settings.needs_token:
        from tradecore.service.auth import TokenMiddleware

        app.add_middleware(TokenMiddleware, token=settings.token)

    from tradecore.service import data_api, data_jobs, events, runs_api

    for module in (data_jobs, data_api, runs_api, events):
        app.include_router(module.router)

    @app.get("/health", tags=["service"])
    def health() -> dict[str, Any]:
        return {"status": "ok", "version": __version__, "workers": settings.workers}

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/data")

    @app.get("/vendor/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        """Plotly's own bundled build, from the installed plotly package: nothing comes from a CDN."""
        from tradecore.runs.charts import plotly_js_path

        return FileResponse(plotly_js_path(), media_type="text/javascript")

    for route, page in PAGES.items():
        app.add_api_route(route, _page(page), include_in_schema=False, methods=["GET"])
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


def _quietly(work: Any) -> None:
    try:
        work()
    except OSError as exc:  # an unreadable runs root: the runs page says so when asked
        print(f"tradecore serve: runs: {exc}")


def _page(name: str):
    def page() -> FileResponse:
        return FileResponse(STATIC / name, media_type="text/html")

    page.__name__ = f"page_{name.split('.')[0]}"
    return page
