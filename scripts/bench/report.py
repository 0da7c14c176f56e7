"""Turn the benchmark's results.json into a markdown table (each figure beside its target) and a chart."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

NAMES = {
    "direct": "direct (upstream)",
    "aihub": "AI Hub",
    "openai": "AI Hub /v1/chat/completions",
    "litellm": "LiteLLM (2 workers)",
}


def _get(tree: Any, *path: str) -> Any:
    for step in path:
        if not isinstance(tree, dict) or step not in tree:
            return None
        tree = tree[step]
    return tree


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _sub(a: Any, b: Any) -> float | None:
    return None if a is None or b is None else a - b


def rows(r: dict[str, Any]) -> list[tuple[str, dict[str, Any], Any, str, bool | None]]:
    """(figure, value per system, AI Hub minus direct, target, met) for every reported figure."""
    out: list[tuple[str, dict[str, Any], Any, str, bool | None]] = []
    systems = [s for s in ("direct", "aihub", "openai", "litellm") if s in r.get("rest", {})]

    def per(*path: str) -> dict[str, Any]:
        return {s: _get(r, path[0], s, *path[1:]) for s in systems}

    def add(name: str, values: dict[str, Any], target: str = "", met: bool | None = None) -> None:
        timing = re.search(r"\bms\b", name) is not None  # an added figure only where more = overhead
        out.append(
            (name, values, _sub(values.get("aihub"), values.get("direct")) if timing else None, target, met)
        )

    rps16 = per("rest", "16", "rps")
    err16 = per("rest", "16", "errors")
    ok = rps16.get("aihub") is not None and rps16["aihub"] >= 1500 and err16.get("aihub") == 0
    add("REST 16 conn: requests/s", rps16, "≥ 1,500, no errors (issue 5)", ok)
    add("REST 16 conn: errors", err16)
    cpu16 = per("rest", "16", "cpu_ms_per_request")
    c = cpu16.get("aihub")
    add("REST 16 conn: server CPU ms/request", cpu16, "≤ 0.6 ms (gateway)", None if c is None else c <= 0.6)
    for p in ("p50", "p90", "p99"):
        add(f"REST 16 conn: latency {p} ms", per("rest", "16", "latency_ms", p))
    add("REST 1 conn: requests/s", per("rest", "1", "rps"))
    for p, limit in (("p50", 1.0), ("p90", None), ("p99", 3.0)):  # p99: issue 5's
        values = per("rest", "1", "latency_ms", p)
        added = _sub(values.get("aihub"), values.get("direct"))
        target = f"added ≤ {limit:g} ms" if limit else ""
        add(
            f"REST 1 conn: latency {p} ms",
            values,
            target,
            None if limit is None or added is None else added <= limit,
        )
    add("REST 1 conn: server CPU ms/request", per("rest", "1", "cpu_ms_per_request"))
    developer, compatible = cpu16.get("aihub"), cpu16.get("openai")
    if developer and compatible is not None:
        ratio = compatible / developer
        out.append(("REST 16 conn: CPU of /v1/chat/completions over /v1/developer/chat",
                    {"openai": round(ratio, 3)}, None, "≤ 1.10", ratio <= 1.10))  # fmt: skip

    grpc = _get(r, "grpc", "1") or {}
    direct_p50 = _get(r, "rest", "direct", "1", "latency_ms", "p50")
    g50 = _get(grpc, "latency_ms", "p50")
    values = {"direct": direct_p50, "aihub": g50}
    added = _sub(g50, direct_p50)
    add("gRPC unary 1 conn: latency p50 ms (direct = REST)", values, "added ≤ 1.0 ms",
        None if added is None else added <= 1.0)  # fmt: skip
    add("gRPC unary 1 conn: latency p99 ms", {"aihub": _get(grpc, "latency_ms", "p99")})
    add(
        "gRPC unary 1 conn: calls/s, errors",
        {"aihub": f"{_fmt(grpc.get('calls_per_s'), 1)}, {grpc.get('errors')}"},
    )
    add("gRPC unary 1 conn: server CPU ms/call", {"aihub": grpc.get("cpu_ms_per_request")})

    for conc, pct, limit in (("50", "p50", 2.0), ("1000", "p99", 100.0)):
        for p in ("p50", "p99"):
            values = per("stream", conc, "ttft_ms", p)
            added = _sub(values.get("aihub"), values.get("direct"))
            is_target = p == pct
            add(
                f"streams ×{conc}: TTFT {p} ms",
                values,
                f"added ≤ {limit:g} ms" if is_target else "",
                (None if added is None else added <= limit) if is_target else None,
            )
        for p in ("p50", "p99"):
            add(f"streams ×{conc}: total time {p} ms", per("stream", conc, "total_ms", p))
        add(f"streams ×{conc}: streams/s", per("stream", conc, "streams_per_s"))
        streams = per("stream", conc, "streams")
        bad = {s: (_get(r, "stream", s, conc, "incomplete") or 0)
                  + (_get(r, "stream", s, conc, "errors") or 0)
               for s in systems}  # fmt: skip
        delivered = {
            s: f"{streams[s] - bad[s]}/{streams[s]}" if streams[s] is not None else None for s in systems
        }
        hub_ok = streams.get("aihub") is not None and bad.get("aihub") == 0
        out.append((f"streams ×{conc}: complete streams", delivered, None, "every chunk delivered", hub_ok))
        add(f"streams ×{conc}: server CPU ms/stream", per("stream", conc, "cpu_ms_per_stream"))

    peak = {s: _get(r, "peak_rss_mb", s) for s in systems}
    p = peak.get("aihub")
    out.append(
        ("peak RSS MB (whole run, all processes)", peak, None, "≤ 150 MB", None if p is None else p <= 150)
    )
    out.append(("idle RSS MB", {s: _get(r, "idle_rss_mb", s) for s in systems}, None, "", None))
    soak = r.get("soak")
    if soak:
        growth = soak["rss_growth_mb"]
        text = f"{soak['rss_first_mb']} → {soak['rss_last_mb']} (peak {soak['peak_rss_mb']})"
        slope = soak.get("rss_slope_mb_per_min")
        if slope is not None:
            text += f", {slope:+.2f} MB/min"
        out.append((f"soak {soak['minutes']:g} min: RSS MB first → last slice", {"aihub": text}, growth,
                    "flat (growth ≤ 10 MB)", growth <= 10))  # fmt: skip
        out.append((f"soak {soak['minutes']:g} min: errors", {"aihub": soak["errors"]}, None, "0",
                    soak["errors"] == 0))  # fmt: skip
    return out


def table(r: dict[str, Any]) -> str:
    systems = [s for s in ("direct", "aihub", "openai", "litellm") if s in r.get("rest", {})]
    head = ["figure", *(NAMES[s] for s in systems), "AI Hub added", "target", "met"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, values, added, target, met in rows(r):
        mark = "" if met is None else ("yes" if met else "**no**")
        cells = [name, *(_fmt(values.get(s)) for s in systems), _fmt(added), target, mark]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def chart(r: dict[str, Any], path: Path) -> bool:
    sweep = r.get("sweep")
    if not sweep:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (lat, thr) = plt.subplots(1, 2, figsize=(12, 4.8))
    colors = {"direct": "tab:gray", "aihub": "tab:blue", "litellm": "tab:orange"}
    for system, points in sweep.items():
        conns = sorted(int(c) for c in points)
        p50 = [points[str(c)]["latency_ms"]["p50"] for c in conns]
        p99 = [points[str(c)]["latency_ms"]["p99"] for c in conns]
        rps = [points[str(c)]["rps"] for c in conns]
        color = colors.get(system)
        lat.plot(conns, p50, "o-", color=color, label=f"{NAMES[system]} p50")
        lat.plot(conns, p99, "s--", color=color, alpha=0.6, label=f"{NAMES[system]} p99")
        thr.plot(conns, rps, "o-", color=color, label=NAMES[system])
    for axis in (lat, thr):
        axis.set_xscale("log", base=2)
        axis.set_yscale("log")
        axis.set_xlabel("load: concurrent connections (wrk, closed loop)")
        axis.grid(True, which="both", alpha=0.3)
    lat.set_ylabel("latency, ms")
    lat.set_title("REST POST chat: latency against load")
    lat.legend(fontsize=7)
    thr.axhline(1500, color="tab:red", linestyle=":", linewidth=1, label="target: 1,500 req/s at 16")
    thr.set_ylabel("requests/s")
    thr.set_title("throughput against load")
    thr.legend(fontsize=8)
    m = r.get("machine", {})
    fig.suptitle(
        f"AI Hub benchmark {r.get('date', '')[:10]} — {m.get('nproc')} cores, {m.get('cpu', '')}", fontsize=9
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def write_report(r: dict[str, Any], out: Path) -> str:
    from targets import targets_table

    text = "Issue 16's targets:\n\n" + targets_table(r) + "\n\nEvery figure:\n\n" + table(r)
    has_chart = chart(r, out / "latency.png")
    m = r.get("machine", {})
    doc = [
        f"# Benchmark results, {r.get('date')}",
        "",
        f"`{r.get('command')}`",
        "",
        f"Machine: {m.get('nproc')} cores, {m.get('cpu')}, {m.get('memory_gb')} GB, {m.get('os')}, "
        f"kernel {m.get('kernel')}, {m.get('python')}; {m.get('packages')};"
        f" {m.get('nginx')}; {m.get('wrk')}.",
        "",
        text,
        "",
    ]
    if has_chart:
        doc += ["![latency against load](latency.png)", ""]
    if r.get("litellm_error"):
        doc += [f"LiteLLM was left out: {r['litellm_error'][:500]}", ""]
    (out / "results.md").write_text("\n".join(doc))
    return text


if __name__ == "__main__":
    results_dir = Path(sys.argv[1] if len(sys.argv) > 1 else ".bench/results")
    print(write_report(json.loads((results_dir / "results.json").read_text()), results_dir))
