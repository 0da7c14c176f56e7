"""Built-in upstream simulators: OpenRouter and Gemini wire protocols on loopback.

They serve the embedded default (`aihub serve` without provider keys) and the tests. Every
answer says it is simulated; scenarios (`scenarios.SCENARIOS`) make them misbehave on demand.
"""

from aihub_core.simulators.gemini import GeminiSimulator
from aihub_core.simulators.openrouter import OpenRouterSimulator
from aihub_core.simulators.scenarios import SCENARIO_HEADER, SCENARIOS, Scenario
from aihub_core.simulators.simulator import RecordedRequest, Simulator

__all__ = [
    "SCENARIOS",
    "SCENARIO_HEADER",
    "GeminiSimulator",
    "OpenRouterSimulator",
    "RecordedRequest",
    "Scenario",
    "Simulator",
]
