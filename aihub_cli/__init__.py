"""The `aihub` command: composes the gRPC core and the REST/SSE shim into processes."""
