"""Warehouse connections, URLs and introspection."""

from klenty_wh.warehouse.connection import (
    DEFAULT_URL,
    ENV_VAR,
    Warehouse,
    display_url,
    open_warehouse,
    resolve_url,
)

__all__ = ["DEFAULT_URL", "ENV_VAR", "Warehouse", "display_url", "open_warehouse", "resolve_url"]
