"""The in-process transport: a grpc.aio channel whose calls run this process's servicers directly.

`aihub serve` runs the shim and the core in one process; the shim reaches the core through
`channel.LocalChannel` instead of loopback gRPC. A transport, not the API boundary: it knows
grpc.aio's semantics and nothing of AI Hub (it imports nothing else of `aihub_core`).

    channel.py   LocalChannel and method_table: what the generated stubs call
    calls.py     the client side of one call (grpc.aio's call objects, each ending mapped)
    context.py   the server side: what a servicer sees instead of grpc.aio's context
"""
