"""The HTTP service (``xlcredit serve``): the credit engine and the team's credit database as a JSON API."""

from xlcredit.service.app import Settings, create_app

__all__ = ["Settings", "create_app"]
