"""The typed answers of the AI Hub API: frozen dataclasses with the REST field names.

Each top-level answer keeps the decoded JSON body in `raw` (left out of repr and comparisons), so
fields a newer gateway adds are reachable before the SDK names them.
"""

from ._common import (
    RateLimit,
    Usage,
)
from .alerts import (
    Alert,
    AlertFigures,
    AlertList,
    CreatedAlert,
    DeletedAlert,
)
from .chat import (
    ChatMetadata,
    ChatResponse,
    ContentEvent,
    DoneEvent,
    SessionEvent,
    StreamEvent,
    UsageEvent,
)
from .keys import (
    ApiKey,
    ApiKeyList,
    CreatedApiKey,
    DeletedApiKey,
    LoggedOut,
    RotatedApiKey,
    TokenInfo,
)
from .models import (
    Model,
    ModelList,
    ModelPricing,
    ServiceList,
)
from .quota import (
    KeyBudget,
    Quota,
    RateLimitPolicy,
    SpendBudget,
)
from .usage import (
    DailyUsage,
    UsageBreakdown,
    UsageGroup,
    UsageLog,
    UsageLogPage,
    UsageReport,
)

__all__ = [
    "Alert",
    "AlertFigures",
    "AlertList",
    "ApiKey",
    "ApiKeyList",
    "ChatMetadata",
    "ChatResponse",
    "ContentEvent",
    "CreatedAlert",
    "CreatedApiKey",
    "DailyUsage",
    "DeletedAlert",
    "DeletedApiKey",
    "DoneEvent",
    "KeyBudget",
    "LoggedOut",
    "Model",
    "ModelList",
    "ModelPricing",
    "Quota",
    "RateLimit",
    "RateLimitPolicy",
    "RotatedApiKey",
    "ServiceList",
    "SessionEvent",
    "SpendBudget",
    "StreamEvent",
    "TokenInfo",
    "Usage",
    "UsageBreakdown",
    "UsageEvent",
    "UsageGroup",
    "UsageLog",
    "UsageLogPage",
    "UsageReport",
]
