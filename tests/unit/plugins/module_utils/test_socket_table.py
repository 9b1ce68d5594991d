"""The shared /proc/net/udp{,6} parser, on recorded tables and malformed lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from ansible_collections.tecrax.ops.plugins.module_utils.common import socket_table as st

DATA = Path(__file__).resolve().parents[2] / "data" / "ntp"
HEADER = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"


def test_recorded_server_table_has_an_unconnected_port_123_socket_with_its_inode() -> None:
    text = (DATA / "chrony-server-local-stratum" / "proc_net_udp").read_text()
    table = st.parse_socket_table(text)
    assert table.has_header
    assert st.Socket(123, False, "244179") in table.sockets
    assert st.has_listener(text, 123) is True
    assert st.listener_inodes(text, 123) == ["244179"]


def test_recorded_client_table_has_no_port_123_listener() -> None:
    text = (DATA / "chrony-client-synchronized" / "proc_net_udp").read_text()
    assert st.has_listener(text, 123) is False
    assert st.listener_inodes(text, 123) == []


def test_a_connected_socket_is_bound_but_not_listening() -> None:
    text = HEADER + "   1: 0A00000A:007B 0B00000A:007B 01 00000000:00000000 00:00000000 00000000 0 0 77 2\n"
    assert st.has_listener(text, 123) is False
    assert st.listener_inodes(text, 123) == ["77"]


@pytest.mark.parametrize("line", [
    "   1: 00000000:7B 00000000:0000 07\n",  # port not four hex digits
    "   1: 00000000 00000000:0000 07\n",  # no port
    "   1: 00000000:007B\n",  # too few fields
    "   1: 00000000:007B 00000000:0000 07" + " " * st.MAX_LINE_CHARS + "\n",  # over-long
])
def test_malformed_lines_are_skipped(line: str) -> None:
    assert st.parse_socket_table(HEADER + line).sockets == []


def test_without_a_header_listening_is_unknown() -> None:
    assert st.has_listener("   1: 00000000:0035 00000000:0000 07\n", 123) is None
    assert st.local_port("[::]:007b") == 123
    assert st.local_port("007B") is None
