"""The gRPC boundary: thin servicers, the per-call gate and the one error mapping."""
