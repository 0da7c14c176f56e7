"""Write the README's table of error codes from the contract's ErrorReason enum.

Usage: python scripts/gen_error_table.py [--check]
The table (code, type, HTTP status, meaning) sits between two HTML comments in README.md; the
meaning of a code is its comment in proto/aihub/v1/error_reason.proto. With --check, fail if the
README's table differs from the one the contract gives.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import grpc_tools
from google.protobuf import descriptor_pb2
from grpc_tools import protoc

from aihub.v1 import error_reason_pb2  # registers the http_status and error_type options

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "proto"
PROTO = "aihub/v1/error_reason.proto"
README = ROOT / "README.md"
BEGIN = f"<!-- error codes: generated from proto/{PROTO} by scripts/gen_error_table.py -->\n"
END = "<!-- end of error codes -->\n"
PREFIX = "ERROR_REASON_"
# Paths into FileDescriptorProto for SourceCodeInfo: enum_type = 5, EnumDescriptorProto.value = 2.
_ENUM_TYPE, _ENUM_VALUE = 5, 2


def _contract() -> descriptor_pb2.FileDescriptorProto:
    """error_reason.proto as protoc reads it from the source, comments included."""
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "error_reason.pb"
        args = ["protoc", f"-I{PROTO_ROOT}", f"-I{well_known}", "--include_source_info"]
        if protoc.main([*args, f"--descriptor_set_out={out}", PROTO]) != 0:
            raise SystemExit(f"protoc could not read {PROTO}")
        files = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes()).file
    return next(f for f in files if f.name == PROTO)


def table() -> str:
    """The markdown table of every error code, in the contract's order."""
    contract = _contract()
    enum_index, enum = next((i, e) for i, e in enumerate(contract.enum_type) if e.name == "ErrorReason")
    comments = {
        tuple(loc.path): " ".join(loc.leading_comments.split()) for loc in contract.source_code_info.location
    }
    rows = ["| code | type | HTTP | meaning |", "| --- | --- | --- | --- |"]
    for index, value in enumerate(enum.value):
        if value.number == 0:
            continue
        status = value.options.Extensions[error_reason_pb2.http_status]
        error_type = value.options.Extensions[error_reason_pb2.error_type]
        meaning = comments.get((_ENUM_TYPE, enum_index, _ENUM_VALUE, index), "").replace("|", "\\|")
        code = value.name.removeprefix(PREFIX).lower()
        rows.append(f"| `{code}` | `{error_type}` | {status} | {meaning} |")
    return "\n".join(rows) + "\n"


def spliced(readme: str) -> str:
    """The README with the text between the markers replaced by the contract's table."""
    head, begin, rest = readme.partition(BEGIN)
    _, end, tail = rest.partition(END)
    if not begin or not end:
        raise SystemExit(f"README.md lacks the markers {BEGIN.strip()} and {END.strip()}")
    return f"{head}{BEGIN}\n{table()}\n{END}{tail}"


def main() -> int:
    readme = README.read_text()
    wanted = spliced(readme)
    if "--check" in sys.argv[1:]:
        if wanted != readme:
            print("README.md's error table is out of date; run scripts/gen_error_table.py", file=sys.stderr)
            return 1
        return 0
    README.write_text(wanted)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
