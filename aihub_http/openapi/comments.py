"""The proto files' comments, from the descriptor set `scripts/gen_protos.py` writes with source
info: the OpenAPI document's descriptions, so the contract documents itself once."""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from types import MappingProxyType

from google.protobuf import descriptor_pb2

# FileDescriptorProto field numbers in a SourceCodeInfo path.
_MESSAGE, _ENUM, _SERVICE = 4, 5, 6
_FIELD, _VALUE, _METHOD = 2, 2, 2


def load_comments() -> Mapping[str, str]:
    """Full name (message, field, enum value, service, method) -> its leading comment."""
    data = resources.files("aihub.v1").joinpath("descriptors.binpb").read_bytes()
    files = descriptor_pb2.FileDescriptorSet.FromString(data)
    found: dict[str, str] = {}
    for file in files.file:
        names: dict[tuple[int, ...], str] = {}
        for i, message in enumerate(file.message_type):
            name = f"{file.package}.{message.name}"
            names[(_MESSAGE, i)] = name
            for j, field in enumerate(message.field):
                names[(_MESSAGE, i, _FIELD, j)] = f"{name}.{field.name}"
        for i, enum in enumerate(file.enum_type):
            for j, value in enumerate(enum.value):
                names[(_ENUM, i, _VALUE, j)] = f"{file.package}.{value.name}"
        for i, service in enumerate(file.service):
            name = f"{file.package}.{service.name}"
            names[(_SERVICE, i)] = name
            for j, method in enumerate(service.method):
                names[(_SERVICE, i, _METHOD, j)] = f"{name}.{method.name}"
        for location in file.source_code_info.location:
            named = names.get(tuple(location.path))
            if named is not None and location.leading_comments:
                found[named] = " ".join(location.leading_comments.split())
    return MappingProxyType(found)
