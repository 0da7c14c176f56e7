"""Issue 16's targets as a table: figure | AI Hub | target | met? | LiteLLM, from results.json.

"Added" figures are the system's latency minus the upstream reached directly in the same run
(the gRPC route's against the direct REST call, as there is no direct gRPC upstream). A figure
the run did not measure (a phase left out, LiteLLM not installed) shows as "–" and is not judged.
"""

from __future__ import annotations

from typing import Any

from report import _fmt, _get

Row = tuple[str, Any, str, bool | None, Any]  # figure, AI Hub, target, met, LiteLLM


def _minus(a: Any, b: Any) -> float | None:
    return None if a is None or b is None else round(a - b, 3)


def _at_most(value: float | None, limit: float | None) -> bool | None:
    return None if value is None or limit is None else value <= limit


def _both(*checks: bool | None) -> bool | None:
    return None if any(c is None for c in checks) else all(checks)


def target_rows(r: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    rest, stream = r.get("rest", {}), r.get("stream", {})

    def added_p50(system: str, conns: str = "1") -> float | None:
        direct = _get(rest, "direct", conns, "latency_ms", "p50")
        return _minus(_get(rest, system, conns, "latency_ms", "p50"), direct)

    # gRPC unary, 1 connection, against the REST route at 1 connection.
    grpc = _get(r, "grpc", "1") or {}
    g_added = _minus(_get(grpc, "latency_ms", "p50"), _get(rest, "direct", "1", "latency_ms", "p50"))
    rest_added = added_p50("aihub")
    rows.append(("gRPC unary 1 conn: added p50 ms", g_added, "≤ REST route's added p50, ≤ 1.0 ms",
                 _both(_at_most(g_added, rest_added), _at_most(g_added, 1.0)), None))  # fmt: skip
    g_cpu, rest_cpu = grpc.get("cpu_ms_per_request"), _get(rest, "aihub", "1", "cpu_ms_per_request")
    rows.append(("gRPC unary 1 conn: server CPU ms/call", _pair(g_cpu, rest_cpu, "{} (REST {})"),
                 "≤ the REST route's at 1 conn", _at_most(g_cpu, rest_cpu), None))  # fmt: skip
    aio = _get(r, "grpc", "1-aio") or {}
    if aio:
        a_added = _minus(_get(aio, "latency_ms", "p50"), _get(rest, "direct", "1", "latency_ms", "p50"))
        figures = _pair(a_added, aio.get("cpu_ms_per_request"))
        rows.append(("gRPC unary 1 conn, grpc.aio client: added p50 ms, server CPU ms/call", figures,
                     "(for the record)", None, None))  # fmt: skip

    # REST, both routes, against LiteLLM (whose one route is OpenAI's).
    peer_cpu = _get(rest, "litellm", "16", "cpu_ms_per_request")
    for system, route in (("aihub", "/v1/developer/chat"), ("openai", "/v1/chat/completions")):
        cpu = _get(rest, system, "16", "cpu_ms_per_request")
        twelfth = None if peer_cpu is None else round(peer_cpu / 12, 3)
        met = _at_most(cpu, 0.6) if twelfth is None else _both(_at_most(cpu, 0.6), _at_most(cpu, twelfth))
        rows.append((f"REST {route} 16 conn: gateway CPU ms/request", cpu,
                     "≤ 0.6 ms, ≤ LiteLLM's / 12", met, peer_cpu))  # fmt: skip
        load = {x: _pair(_get(rest, x, "16", "rps"), _get(rest, x, "16", "errors"))
                for x in (system, "litellm")}  # fmt: skip
        rows.append((f"REST {route} 16 conn: requests/s, errors", load[system], "", None, load["litellm"]))
        value = added_p50(system)
        rows.append((f"REST {route} 1 conn: added p50 ms", value, "≤ 1.0 ms", _at_most(value, 1.0),
                     added_p50("litellm")))  # fmt: skip

    # Streams of N chunks M ms apart.
    def stream_added(system: str, conc: str, p: str) -> float | None:
        return _minus(_get(stream, system, conc, "ttft_ms", p), _get(stream, "direct", conc, "ttft_ms", p))

    for conc in ("50", "1000"):
        cpu = _get(stream, "aihub", conc, "cpu_ms_per_stream")
        rows.append((f"streams ×{conc}: CPU ms/stream", cpu, "≤ 1.5 ms", _at_most(cpu, 1.5),
                     _get(stream, "litellm", conc, "cpu_ms_per_stream")))  # fmt: skip
    value = stream_added("aihub", "50", "p50")
    rows.append(("streams ×50: TTFT added p50 ms", value, "≤ 2 ms", _at_most(value, 2.0),
                 stream_added("litellm", "50", "p50")))  # fmt: skip
    value = stream_added("aihub", "1000", "p99")
    rows.append(("streams ×1000: TTFT added p99 ms", value, "≤ 100 ms", _at_most(value, 100.0),
                 stream_added("litellm", "1000", "p99")))  # fmt: skip

    def delivered(system: str) -> tuple[str | None, bool | None]:
        total = bad = 0
        for conc in ("50", "1000"):
            phase = _get(stream, system, conc)
            if not phase:
                return None, None
            total += phase.get("streams") or 0
            bad += (phase.get("incomplete") or 0) + (phase.get("errors") or 0)
        return f"{total - bad:,}/{total:,}", bad == 0 and total > 0

    hub_text, hub_ok = delivered("aihub")
    rows.append(("streams ×50 and ×1000: complete streams", hub_text, "every chunk delivered", hub_ok,
                 delivered("litellm")[0]))  # fmt: skip

    peak = _get(r, "peak_rss_mb", "aihub")
    rows.append(("peak RSS MB, whole gateway, whole run", peak, "≤ 150 MB", _at_most(peak, 150.0),
                 _get(r, "peak_rss_mb", "litellm")))  # fmt: skip
    soak = r.get("soak")
    if soak:
        drift = soak.get("rss_drift_mb", soak.get("rss_growth_mb"))
        text = f"{soak['rss_first_mb']} → {soak['rss_last_mb']}, peak {soak.get('peak_rss_mb')}"
        text += f", drift {drift}"
        rows.append((f"soak {soak.get('seconds', soak['minutes'] * 60):g} s: RSS MB first → last slice",
                     text, "flat (drift ≤ 10 MB), 0 errors",
                     None if drift is None else drift <= 10 and soak["errors"] == 0, None))  # fmt: skip
    capacity = r.get("capacity")
    if capacity:
        store = _get(r, "params", "store")
        shown = {k: v for k, v in capacity.items() if k not in ("rps",)}
        rows.append((f"{store}, {_get(r, 'params', 'replicas')} replicas: per request", shown, "(reported)",
                     None, None))  # fmt: skip
    return rows


def _pair(a: Any, b: Any, around: str = "{}, {}") -> str | None:
    return None if a is None and b is None else around.format(_cell(a), _cell(b))


def _cell(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {_cell(v)}" for k, v in value.items())
    return _fmt(value)


def targets_table(r: dict[str, Any]) -> str:
    lines = ["| figure | AI Hub | target | met? | LiteLLM (2 workers) |", "|---|---|---|---|---|"]
    for name, hub, target, met, peer in target_rows(r):
        mark = "–" if met is None and target and not target.startswith("(") else ""
        if met is not None:
            mark = "yes" if met else "**no**"
        lines.append(f"| {name} | {_cell(hub)} | {target} | {mark} | {_cell(peer)} |")
    return "\n".join(lines)
