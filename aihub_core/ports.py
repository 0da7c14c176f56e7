"""Listening ports: bind one, or check that one is free, and say in one line why not."""

from __future__ import annotations

import errno
import socket
from dataclasses import dataclass

from aihub_core.errors import ConfigError

# Connections a listening socket queues before they are accepted.
BACKLOG = 2048


@dataclass(frozen=True)
class Port:
    """A port to listen on, and what to call it when it cannot be had: `what` ("HTTP", "gRPC")
    and the command-line flag that chooses another."""

    host: str
    number: int
    what: str
    flag: str

    def error(self, err: OSError) -> ConfigError:
        """The one-line reason this port cannot be listened on."""
        where = f"{self.host}:{self.number}"
        if err.errno == errno.EADDRINUSE:
            return ConfigError(
                f"the {self.what} port {where} is in use (another aihub serve?): stop what holds it, "
                f"or choose another port with {self.flag}"
            )
        reason = err.strerror or str(err)
        return ConfigError(f"cannot listen on the {self.what} port {where}: {reason} ({self.flag}, --host)")

    def bind(self, *, reuse_port: bool = False, listen: bool = False) -> socket.socket:
        """A TCP socket bound to the port (0 picks one), listening if asked; ConfigError if the
        port cannot be had.

        Alone, it sets SO_REUSEADDR as every server does (a closed server's connections in
        TIME_WAIT do not hold the port). With `reuse_port` it sets SO_REUSEPORT instead: one of the
        sockets of `aihub serve --workers`, which share the port among this user's SO_REUSEPORT
        sockets; not listening, the supervisor's hold on the port, taken for everyone else."""
        try:
            found = socket.getaddrinfo(self.host, self.number, type=socket.SOCK_STREAM)
            family, kind, proto, _, address = found[0]
            sock = socket.socket(family, kind, proto)
        except OSError as err:
            raise self.error(err) from None
        try:
            option = socket.SO_REUSEPORT if reuse_port else socket.SO_REUSEADDR
            sock.setsockopt(socket.SOL_SOCKET, option, 1)
            sock.bind(address)
            if listen:
                sock.listen(BACKLOG)
        except OSError as err:
            sock.close()
            raise self.error(err) from None
        return sock

    def check_free(self) -> None:
        """Fail now, naming the port, if nothing but this process could listen on it: a port
        that another server (or another group of SO_REUSEPORT workers) listens on."""
        if self.number != 0:
            self.bind().close()
