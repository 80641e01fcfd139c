"""The API docs page: Swagger UI served from this site's own static files, nothing from a CDN."""

from typing import Any

from ninja.openapi.docs import Swagger


class LocalSwagger(Swagger):
    """django-ninja's Swagger UI with our own page around it.

    The online spec validator is switched off, so the OpenAPI document never leaves the site.
    """

    template = "api/swagger.html"

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        super().__init__({"validatorUrl": None, **(settings or {})})
