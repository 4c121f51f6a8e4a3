from __future__ import annotations

import socket

import pytest

from boostqa.errors import StackError
from boostqa_dev.stack.ports import free_ports, port_is_free, port_is_open, require_free


def test_a_taken_port_names_the_setting_that_moves_it() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert not port_is_free("127.0.0.1", port)
        assert port_is_open("127.0.0.1", port)
        with pytest.raises(StackError, match=f"port {port} \\(s3\\).*BOOSTQA_PORTS__S3="):
            require_free("127.0.0.1", {"s3": port})
        with pytest.raises(StackError, match="BOOSTQA_PORTS__SEAWEED_MASTER="):
            require_free("127.0.0.1", {"seaweed_master.grpc": port})
    assert port_is_free("127.0.0.1", port)


def test_free_ports_are_distinct_and_free_with_their_paired_port() -> None:
    ports = free_ports(6, paired_offset=10_000)
    assert len(set(ports)) == 6
    assert all(20_000 <= p < 29_000 and port_is_free("127.0.0.1", p) and port_is_free("127.0.0.1", p + 10_000)
               for p in ports)
