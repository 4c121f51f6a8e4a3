from __future__ import annotations

import socket

import pytest

from boostqa.errors import StackError
from boostqa.stack.ports import port_is_free, port_is_open, require_free


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
