"""The model catalog: which models each service offers, their prices and limits."""

from aihub_core.catalog.catalog import CATEGORIES, Catalog, CatalogModel, CatalogService, load_builtin_catalog

__all__ = ["CATEGORIES", "Catalog", "CatalogModel", "CatalogService", "load_builtin_catalog"]
