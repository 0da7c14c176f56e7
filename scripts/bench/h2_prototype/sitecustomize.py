"""Bench-only (issue 16): with AIHUB_BENCH_H2_PORT set, `aihub serve` also serves its gRPC
servicers on that port through grpclib (`h2_server`), beside grpc.aio's port.

Loaded by Python at start-up when this folder is on PYTHONPATH (`enable()` sets both); needs
`.venv/bin/pip install grpclib==0.4.9` (bench-only, not in pyproject.toml).
"""

from __future__ import annotations

import os

if os.environ.get("AIHUB_BENCH_H2_PORT"):
    import functools
    from typing import Any

    import aihub_core.grpc_api.server as grpc_server

    _start = grpc_server.start_server

    @functools.wraps(_start)
    async def start_server(servicers: Any, host: str, port: int, **kwargs: Any) -> Any:
        from h2_server import H2Server, RawDetails, Services

        running = await _start(servicers, host, port, **kwargs)
        ours = [(service, getattr(servicers, attribute)) for service, attribute in grpc_server._SERVICES]
        h2 = H2Server([Services(ours)], status_details_codec=RawDetails())
        await h2.start(host, int(os.environ["AIHUB_BENCH_H2_PORT"]))
        running.h2 = h2  # kept referenced for the process's life
        return running

    grpc_server.start_server = start_server  # type: ignore[assignment]
