"""The operator's AIHUB_CONFIG file: extra OpenAI-compatible services, plans, fallbacks, model overrides."""

from aihub_core.operator_config.apply import apply_to_catalog, resolve_fallbacks
from aihub_core.operator_config.schema import (
    OperatorConfig,
    OperatorService,
    load_operator_config,
    parse_operator_config,
)

__all__ = [
    "OperatorConfig",
    "OperatorService",
    "apply_to_catalog",
    "load_operator_config",
    "parse_operator_config",
    "resolve_fallbacks",
]
