"""Generated protobuf and gRPC modules for the AI Hub contract (package aihub.v1)."""
