"""Regenerate generated/aihub/v1 from proto/ (python, grpc, and mypy stubs, and the descriptor
set with source info, `descriptors.binpb`, whose comments document the OpenAPI document), then the
TypeScript client in clients/ts/gen (scripts/gen_ts_client.sh), so one command follows a proto edit.

Usage: python scripts/gen_protos.py [--check]
With --check, generate into a temporary directory and fail if it differs from generated/ (the
TypeScript client has its own check: scripts/gen_ts_client.sh --check).
"""

from __future__ import annotations

import filecmp
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import grpc_tools

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "proto"
OUT = ROOT / "generated"
DESCRIPTORS = Path("aihub/v1/descriptors.binpb")
PACKAGE_INIT = '"""Generated protobuf and gRPC modules for the AI Hub contract (package aihub.v1)."""\n'


def generate(out: Path) -> None:
    """Run protoc over every proto file into out and add the package markers."""
    protos = sorted(str(p.relative_to(PROTO_ROOT)) for p in PROTO_ROOT.rglob("*.proto"))
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    scripts = Path(sysconfig.get_path("scripts"))
    cmd = [
        sys.executable,
        "-m",
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"-I{well_known}",
        f"--python_out={out}",
        f"--grpc_python_out={out}",
        f"--plugin=protoc-gen-mypy={scripts / 'protoc-gen-mypy'}",
        f"--plugin=protoc-gen-mypy_grpc={scripts / 'protoc-gen-mypy_grpc'}",
        f"--mypy_out=quiet:{out}",
        f"--mypy_grpc_out=quiet:{out}",
        f"--descriptor_set_out={out / DESCRIPTORS}",
        "--include_source_info",
        *protos,
    ]
    (out / DESCRIPTORS).parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(cmd, check=True, cwd=PROTO_ROOT)
    for pkg in {p.parent for p in out.rglob("*_pb2.py")}:
        node = pkg
        while node != out:
            (node / "__init__.py").write_text(PACKAGE_INIT)
            node = node.parent
    (out / "aihub" / "v1" / "py.typed").write_text("")


def differences(a: Path, b: Path) -> list[str]:
    """Return relative paths that differ between two trees."""
    cmp = filecmp.dircmp(a, b, ignore=["__pycache__"])
    out = [*cmp.left_only, *cmp.right_only, *cmp.diff_files]
    for name, sub in cmp.subdirs.items():
        out += [f"{name}/{d}" for d in differences(Path(sub.left), Path(sub.right))]
    return out


def main() -> int:
    check = "--check" in sys.argv[1:]
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "generated"
        target.mkdir()
        generate(target)
        if check:
            diff = differences(target / "aihub", OUT / "aihub") if (OUT / "aihub").exists() else ["aihub"]
            if diff:
                print("generated/ is out of date; run: python scripts/gen_protos.py", file=sys.stderr)
                for d in diff:
                    print(f"  differs: {d}", file=sys.stderr)
                return 1
            return 0
        shutil.rmtree(OUT / "aihub", ignore_errors=True)
        OUT.mkdir(exist_ok=True)
        shutil.copytree(target / "aihub", OUT / "aihub")
    subprocess.run(["bash", str(ROOT / "scripts" / "gen_ts_client.sh")], check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
