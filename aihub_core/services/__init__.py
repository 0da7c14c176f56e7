"""The gateway's use cases as plain classes: no gRPC context, no HTTP request."""
