"""`aihub users create`, and a gateway run as an operator closes it: registration closed, /metrics
behind a token, short connection timeouts, all from the environment."""

from __future__ import annotations

import asyncio
import io
import socket
import subprocess
from pathlib import Path

import httpx
import pytest

from aihub_cli.users import PasswordUnavailableError, opened_store, read_password
from aihub_core.settings import Settings
from tests.test_cli import aihub, clean_env, http_port_of, serve, stopped, wait_for_banner

PASSWORD = "a long operator-chosen password"


def create(
    tmp_path: Path, env: dict[str, str], *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        aihub("users", "create", *args),
        cwd=tmp_path,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_password_is_asked_twice_on_a_terminal() -> None:
    answers = iter(["first", "first"])
    assert read_password(False, Terminal(), lambda prompt: next(answers)) == "first"
    differ = iter(["first", "second"])
    with pytest.raises(PasswordUnavailableError, match="differ"):
        read_password(False, Terminal(), lambda prompt: next(differ))
    assert read_password(True, io.StringIO("from a pipe\nnext line\n")) == "from a pipe"


def test_users_create_reads_the_password_from_stdin_and_refuses_what_it_cannot_create(tmp_path: Path) -> None:
    env = clean_env()
    made = create(
        tmp_path, env, "Ops@Example.com", "--password-stdin", "--plan", "professional", stdin=PASSWORD + "\n"
    )
    assert made.returncode == 0, made.stderr
    assert "ops@example.com: account user_" in made.stdout and "professional plan" in made.stdout
    assert PASSWORD not in made.stdout + made.stderr

    again = create(tmp_path, env, "ops@example.com", "--password-stdin", stdin=PASSWORD + "\n")
    assert (again.returncode, again.stderr.strip()) == (1, "aihub: ops@example.com has an account already")
    short = create(tmp_path, env, "new@example.com", "--password-stdin", stdin="short\n")
    assert short.returncode == 2 and "password must be 8 to 1024 characters" in short.stderr
    no_terminal = create(tmp_path, env, "new@example.com", stdin=PASSWORD + "\n")  # never read unasked
    assert no_terminal.returncode == 2 and "--password-stdin" in no_terminal.stderr
    bad_plan = create(tmp_path, env, "new@example.com", "--password-stdin", "--plan", "gold", stdin=PASSWORD)
    assert bad_plan.returncode == 2 and "Unknown plan" in bad_plan.stderr


def test_users_set_role_makes_an_admin_and_back(tmp_path: Path) -> None:
    env = clean_env() | {"AIHUB_DATABASE_URL": f"sqlite:///{tmp_path / 'aihub.db'}"}
    assert create(tmp_path, env, "ops@example.com", "--password-stdin", stdin=PASSWORD).returncode == 0

    def set_role(email: str, role: str) -> subprocess.CompletedProcess[str]:
        args = aihub("users", "set-role", email, role)
        return subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)

    async def role() -> str:
        async with opened_store(Settings.from_env(env)) as store:
            user = await store.get_user_by_email("ops@example.com")
        assert user is not None
        return user.role

    assert asyncio.run(role()) == "user"
    made = set_role("Ops@Example.com", "admin")
    assert (made.returncode, made.stdout.strip()) == (0, "ops@example.com: role set to admin"), made.stderr
    assert asyncio.run(role()) == "admin"
    assert set_role("ops@example.com", "user").returncode == 0
    assert asyncio.run(role()) == "user"
    ghost = set_role("ghost@example.com", "admin")
    assert (ghost.returncode, ghost.stderr.strip()) == (1, "aihub: no user with email ghost@example.com")
    bogus = set_role("ops@example.com", "root")
    assert bogus.returncode == 2 and "invalid choice" in bogus.stderr


def test_an_operator_closed_gateway(tmp_path: Path) -> None:
    env = clean_env() | {
        "AIHUB_REGISTRATION": "closed",
        "AIHUB_METRICS_TOKEN": "scrape-token",
        "AIHUB_HTTP_HEADER_TIMEOUT": "0.5",
    }
    assert create(tmp_path, env, "ops@example.com", "--password-stdin", stdin=PASSWORD).returncode == 0
    with serve(tmp_path, env) as process:
        try:
            http_port = http_port_of(wait_for_banner(process))
            with httpx.Client(base_url=f"http://127.0.0.1:{http_port}", timeout=30) as client:
                register = client.post(
                    "/v1/auth/register", json={"email": "x@example.com", "password": PASSWORD}
                )
                assert (register.status_code, register.json()["error"]["code"]) == (
                    403,
                    "registration_closed",
                )
                login = client.post("/v1/auth/login", json={"email": "ops@example.com", "password": PASSWORD})
                assert login.status_code == 200
                assert client.get("/metrics").status_code == 401
                scraped = client.get("/metrics", headers={"Authorization": "Bearer scrape-token"})
                assert scraped.status_code == 200
            with socket.create_connection(("127.0.0.1", http_port), timeout=20) as idle:
                assert idle.recv(1) == b""  # closed by the server, having sent no request
        finally:
            stopped(process)
