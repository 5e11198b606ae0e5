"""An ASGI app imported and built on its first request (for the plugin's web app)."""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["LazyApp"]

ASGIApp = Callable[[MutableMapping[str, Any], Any, Any], Awaitable[None]]


class LazyApp:
    """Import ``module:factory`` and call it with ``args`` when the first request arrives.

    Every Airflow process that loads plugins (scheduler, dag-processor, each task) imports
    the plugin module; importing FastAPI there would cost each of them seconds, and only
    the API server ever serves the app.
    """

    def __init__(self, target: str, *args: Any) -> None:
        self.target = target
        self.args = args
        self._app: ASGIApp | None = None

    def __repr__(self) -> str:  # shown on Airflow's plugin page
        return f"LazyApp({self.target})"

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if self._app is None:
            module, _, factory = self.target.partition(":")
            self._app = getattr(importlib.import_module(module), factory)(*self.args)
        await self._app(scope, receive, send)
