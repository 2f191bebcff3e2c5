"""Make the test run offline for real: any connection to a non-loopback address raises.

Loaded in the pytest process by tests/conftest.py and in every child Python (the notebook kernels
nbval starts, subprocesses) through sitecustomize.py in this folder, which conftest puts on
PYTHONPATH. Loopback (127.0.0.0/8, ::1, localhost) and Unix sockets stay allowed: Jupyter kernels
and the browser tests talk over them. With $LLM_LAB_NETGUARD_LOG set, each blocked attempt is also
appended to that file, so a test sees the attempts a library caught and ignored.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import traceback

LOOPBACK_NAMES = {"localhost", "ip6-localhost", "ip6-loopback"}


class NetworkBlockedError(OSError):
    """A test or notebook tried to reach the network, which the tests forbid."""


def is_loopback(host) -> bool:
    if host is None:
        return True  # getaddrinfo(None, port) means a local wildcard address
    if isinstance(host, bytes):
        host = host.decode()
    host = str(host).strip("[]").split("%")[0]
    if host.lower() in LOOPBACK_NAMES or host == "":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name other than localhost


def _blocked(what: str, host) -> NetworkBlockedError:
    log = os.environ.get("LLM_LAB_NETGUARD_LOG")  # a library may swallow the error: the log still tells
    if log:
        with open(log, "a", encoding="utf-8") as f:
            f.write(f"{what} {host!r}\n{''.join(traceback.format_stack(limit=8))}\n")
    return NetworkBlockedError(
        f"llm-concepts-lab tests run offline: {what} {host!r} was blocked. Notebooks and helpers "
        "must not use the network at run time; models come from `make models` during set-up."
    )


def install() -> None:
    """Patch socket so non-loopback connections and name lookups fail. Idempotent."""
    if getattr(socket.socket.connect, "_llm_lab_guard", False):
        return
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(address[0]):
            raise _blocked("connection to", address[0])
        return real_connect(self, address)

    def connect_ex(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(address[0]):
            raise _blocked("connection to", address[0])
        return real_connect_ex(self, address)

    def getaddrinfo(host, *args, **kwargs):
        if not is_loopback(host):
            raise _blocked("name lookup of", host)
        return real_getaddrinfo(host, *args, **kwargs)

    connect._llm_lab_guard = True
    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex
    socket.getaddrinfo = getaddrinfo
