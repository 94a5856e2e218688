#!/bin/sh
# Regenerate the checked-in gRPC code in src/legato/events/proto/ from proto/legato/events/v1/events.proto.
# Run from the repository root: sh scripts/generate_proto.sh
set -eu
out=$(mktemp -d)
python -m grpc_tools.protoc -I proto --python_out="$out" --pyi_out="$out" --grpc_python_out="$out" \
    proto/legato/events/v1/events.proto
dest=src/legato/events/proto
cp "$out/legato/events/v1/events_pb2.py" "$out/legato/events/v1/events_pb2.pyi" "$dest/"
# protoc names the import after the proto's path; the module lives in legato.events.proto.
sed 's/^from legato\.events\.v1 import events_pb2/from legato.events.proto import events_pb2/' \
    "$out/legato/events/v1/events_pb2_grpc.py" > "$dest/events_pb2_grpc.py"
rm -rf "$out"
echo "generated into $dest"
