"""Decoded JSON bodies and headers -> the dataclasses of `types`.

Readers are lenient about optional fields (a missing count is 0, a missing text None) so an older
or newer gateway still parses, and strict about the few fields an answer is meaningless without.
"""

from .account import (
    alert_list,
    api_key,
    api_key_list,
    created_alert,
    created_api_key,
    deleted_alert,
    deleted_api_key,
    logged_out,
    quota,
    rotated_api_key,
    token_info,
)
from .chat import (
    chat_metadata,
    chat_response,
    model_list,
    service_list,
    usage,
)
from .fields import (
    ResponseMeta,
)
from .reports import (
    usage_breakdown,
    usage_log_page,
    usage_report,
)

__all__ = [
    "ResponseMeta",
    "alert_list",
    "api_key",
    "api_key_list",
    "chat_metadata",
    "chat_response",
    "created_alert",
    "created_api_key",
    "deleted_alert",
    "deleted_api_key",
    "logged_out",
    "model_list",
    "quota",
    "rotated_api_key",
    "service_list",
    "token_info",
    "usage",
    "usage_breakdown",
    "usage_log_page",
    "usage_report",
]
