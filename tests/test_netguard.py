"""The tests are offline for real: a connection to the internet fails at once, loopback works."""

import socket
import subprocess
import sys
import threading

import pytest
from llm_lab_netguard import NetworkBlockedError

EXTERNAL = ("203.0.113.7", 443)  # TEST-NET-3: documentation range, never a real host


def test_connection_to_a_public_address_is_blocked():
    with pytest.raises(NetworkBlockedError, match="run offline"):
        socket.create_connection(EXTERNAL, timeout=5)


def test_name_lookup_of_a_public_host_is_blocked():
    with pytest.raises(NetworkBlockedError):
        socket.getaddrinfo("huggingface.co", 443)


def test_loopback_still_works():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    threading.Thread(target=lambda: server.accept()[0].sendall(b"ok"), daemon=True).start()
    with socket.create_connection(server.getsockname(), timeout=5) as client:
        assert client.recv(2) == b"ok"
    server.close()


def test_child_processes_such_as_notebook_kernels_are_blocked_too():
    code = f"import socket; socket.create_connection({EXTERNAL!r}, timeout=5)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "NetworkBlockedError" in proc.stderr


def test_hub_downloads_fail_offline():
    from huggingface_hub import constants, hf_hub_download

    assert constants.HF_HUB_OFFLINE
    from huggingface_hub.errors import LocalEntryNotFoundError

    with pytest.raises(LocalEntryNotFoundError) as err:
        hf_hub_download("HuggingFaceTB/SmolLM2-135M-Instruct", "config.json", cache_dir="/nonexistent-cache")
    chain, e = [], err.value
    while e is not None:
        chain.append(type(e).__name__)
        e = e.__cause__ or e.__context__
    assert "NetworkBlockedError" not in chain, "HF_HUB_OFFLINE should refuse before trying to connect"
