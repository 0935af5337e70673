"""``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) served with their scripts and styles from the service itself, so they
work offline and behind a firewall (FastAPI's defaults load them from a CDN).

The assets come from the ``fastapi-offline`` package (Swagger UI and ReDoc's standalone bundle, as FastAPI's docs
recommend for self-hosting: https://fastapi.tiangolo.com/how-to/custom-docs-ui-assets/); ReDoc's Google fonts are
left out, so the browser uses its own.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["ASSETS_URL", "add_offline_docs"]

#: Where the service serves the Swagger UI and ReDoc files.
ASSETS_URL = "/docs-assets"


def _assets_folder() -> Path:
    import fastapi_offline

    return Path(fastapi_offline.__file__).resolve().parent / "static"


def add_offline_docs(app: FastAPI) -> None:
    """Add ``/docs``, ``/docs/oauth2-redirect`` and ``/redoc`` using only files served by ``app`` (create the app
    with ``docs_url=None, redoc_url=None``)."""
    app.mount(ASSETS_URL, StaticFiles(directory=_assets_folder()), name="docs-assets")
    title = app.title
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=openapi_url, title=f"{title} — API",
                                   oauth2_redirect_url="/docs/oauth2-redirect",
                                   swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
                                   swagger_favicon_url=f"{ASSETS_URL}/favicon.png")

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    def swagger_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url=openapi_url, title=f"{title} — API reference",
                              redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
                              redoc_favicon_url=f"{ASSETS_URL}/favicon.png", with_google_fonts=False)
