"""Generated gRPC code for proto/legato/events/v1/events.proto (regenerate: scripts/generate_proto.sh)."""
