"""The suite's own guard: a connect off loopback fails before a packet leaves."""

import socket

import pytest

from tests.security.conftest import NonLoopbackConnect


@pytest.mark.parametrize("address", [("10.0.0.1", 80), ("169.254.169.254", 80), ("192.0.2.1", 443),
                                     ("example.com", 80)])
def test_a_connect_off_loopback_is_stopped_before_it_is_sent(only_loopback, address):
    with pytest.raises(NonLoopbackConnect):
        socket.create_connection(address, timeout=0.01)
    with socket.socket() as sock, pytest.raises(NonLoopbackConnect):
        sock.connect(address)
    with socket.socket() as sock, pytest.raises(NonLoopbackConnect):
        sock.connect_ex(address)
    assert only_loopback == [address] * 3
    only_loopback.clear()  # seen and stopped: not a failure of this test


def test_loopback_connects_pass():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(server.getsockname(), timeout=1):
            pass
