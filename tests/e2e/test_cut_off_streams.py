"""What a cut-off stream is charged (issue 11, item 2): what was delivered, never more than the
complete answer to the same request would have cost, never more than `max_tokens`."""

from __future__ import annotations

import httpx
import pytest

from aihub_core.app import Core
from tests.conftest import Account
from tests.e2e.completions import ledger
from tests.waiting import eventually

DEV = "/v1/developer"
# The upstream stops after all the text (no finish), is cut after the first piece, fails in-band
# after it, or the client leaves after the first content event (the upstream stalls meanwhile).
CUT_OFF = ("no-finish", "drop", "midstream-error", "stall")


async def completion_tokens(
    core: Core, http: httpx.AsyncClient, account: Account, scenario: str | None, max_tokens: int | None
) -> tuple[str, int]:
    """The status and completion tokens of the ledger row of one streamed call."""
    core.upstreams.simulators["openrouter"].scenario = scenario
    before = len(ledger(core))
    body: dict[str, object] = {"message": "Tell me a story about a gateway", "stream": True}
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    async with http.stream("POST", f"{DEV}/chat", json=body, headers=account.key_auth) as response:
        async for line in response.aiter_lines():
            if scenario == "stall" and '"content"' in line:
                break  # the client goes away

    def settled() -> bool:  # a cancelled call's row lands as its task unwinds
        rows = ledger(core)
        return len(rows) == before + 1 and rows[-1]["status"] != "pending"

    await eventually(settled, "the call's row is settled")
    row = ledger(core)[-1]
    return str(row["status"]), int(row["completion_tokens"])


@pytest.mark.parametrize("max_tokens", [None, 30, 5])
async def test_a_cut_off_stream_costs_at_most_the_complete_answer(
    core: Core, http: httpx.AsyncClient, account: Account, transport: str, max_tokens: int | None
) -> None:
    status, whole = await completion_tokens(core, http, account, None, max_tokens)
    assert status == "ok"
    for scenario in CUT_OFF:
        status, cut = await completion_tokens(core, http, account, scenario, max_tokens)
        assert status in ("error", "cancelled"), scenario
        assert 0 < cut <= whole, (scenario, cut, whole)
        if max_tokens is not None:
            assert cut <= max_tokens
