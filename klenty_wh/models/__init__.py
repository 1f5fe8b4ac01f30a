"""Analyst models over the Segment tables: views generated from the tracking plan."""

from klenty_wh.models.build import (
    ModelsResult,
    create_models,
    model_statements,
    models_schema_name,
    standalone_query,
)
from klenty_wh.models.catalog import ModelView, model_views

__all__ = [
    "ModelView",
    "ModelsResult",
    "create_models",
    "model_statements",
    "model_views",
    "models_schema_name",
    "standalone_query",
]
