"""One thin servicer per gRPC service: proto in, a service call, proto out."""
