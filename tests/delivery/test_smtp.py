"""The SMTP reply reader (``_ReplyReader``): how bytes from the relay become replies.

The reader is the protocol under the pipelined sender, so every reply it mis-frames is a
message in the wrong state. Most tests feed it with ``data_received`` directly, in the
pieces a test chooses (TCP may cut a reply anywhere); one drives it over a real socket
pair with the same transport hand-over the sender uses.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from newsletter.delivery.smtp import Reply, _ConnectionLost, _ReplyReader

SHORT = 0.2  # seconds: long enough for a reply that is there, short for one that is not


@dataclass
class FakeTransport:
    """Just what ``write`` uses; the reader never reads from its transport."""

    written: list[bytes] = field(default_factory=list)
    closing: bool = False

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def is_closing(self) -> bool:
        return self.closing


def reader_fed(*pieces: bytes) -> _ReplyReader:
    reader = _ReplyReader(FakeTransport())  # type: ignore[arg-type]
    for piece in pieces:
        reader.data_received(piece)
    return reader


async def test_a_reply_split_across_reads_is_read_once_it_is_whole() -> None:
    reader = reader_fed(b"25", b"0 2.1.5 ")
    with pytest.raises(TimeoutError):
        await reader.read(SHORT)
    pending = asyncio.ensure_future(reader.read(5))
    await asyncio.sleep(0)
    assert not pending.done()
    reader.data_received(b"OK\r")
    await asyncio.sleep(0)
    assert not pending.done()  # CR alone does not end a line
    reader.data_received(b"\n")
    assert await pending == Reply(250, "2.1.5 OK")


async def test_several_replies_in_one_read_come_out_in_order() -> None:
    reader = reader_fed(b"250 2.1.0 OK\r\n550 5.1.1 <x@voorbeeld.nl>: unknown\r\n354 go ahead\r\n")
    assert await reader.read(SHORT) == Reply(250, "2.1.0 OK")
    assert await reader.read(SHORT) == Reply(550, "5.1.1 <x@voorbeeld.nl>: unknown")
    assert await reader.read(SHORT) == Reply(354, "go ahead")
    with pytest.raises(TimeoutError):
        await reader.read(SHORT)


async def test_a_multi_line_reply_is_one_reply_with_the_lines_joined() -> None:
    reader = reader_fed(b"250-relay.test greets you\r\n250-PIPELINING\r\n250-8BIT", b"MIME\r\n")
    with pytest.raises(TimeoutError):  # not yet: the last line has not come
        await reader.read(SHORT)
    reader.data_received(b"250 SIZE 10240000\r\n221 bye\r\n")
    assert await reader.read(SHORT) == Reply(
        250, "relay.test greets you\nPIPELINING\n8BITMIME\nSIZE 10240000"
    )
    assert await reader.read(SHORT) == Reply(221, "bye")


async def test_bare_newlines_end_lines_too() -> None:
    reader = reader_fed(b"250-first\n250 second\n")
    assert await reader.read(SHORT) == Reply(250, "first\nsecond")


@pytest.mark.parametrize(
    ("garbage", "reply"),
    [
        (b"hello there\r\n", Reply(0, "o there")),  # no code: 0, the sender's "unknown"
        (b"\r\n", Reply(0, "")),
        # Not three digits, yet int() takes it: the reader passes 25 on as the code (what
        # classify() makes of a code outside 200-599 is its business, not the reader's).
        (b"25\r\n", Reply(25, "")),
        (b"\xff\xfe\xfd \xfc\r\n", Reply(0, "\ufffd")),  # not UTF-8: replaced, not raised
    ],
)
async def test_a_garbage_line_is_a_reply_with_code_0_and_reading_goes_on(
    garbage: bytes, reply: Reply
) -> None:
    reader = reader_fed(garbage + b"250 OK\r\n")
    assert await reader.read(SHORT) == reply
    assert await reader.read(SHORT) == Reply(250, "OK")


async def test_a_line_with_a_dash_in_the_fourth_place_continues_the_reply() -> None:
    """Whatever precedes it, ``xyz-`` means "more lines follow": the reply ends later."""
    reader = reader_fed(b"abc-def\r\n250 OK\r\n")
    assert await reader.read(SHORT) == Reply(250, "def\nOK")


@pytest.mark.parametrize("close", ["connection_lost", "eof_received"])
async def test_a_connection_closed_mid_reply_raises_connection_lost(close: str) -> None:
    reader = reader_fed(b"250 2.1.0 OK\r\n250-PIPELINING\r\n250 8BIT")
    pending = asyncio.ensure_future(reader.read(5))
    assert await pending == Reply(250, "2.1.0 OK")  # what came whole is still read
    waiting = asyncio.ensure_future(reader.read(5))
    await asyncio.sleep(0)
    if close == "connection_lost":
        reader.connection_lost(ConnectionResetError())
    else:
        assert reader.eof_received() is False  # let the transport close itself
    with pytest.raises(_ConnectionLost):
        await asyncio.wait_for(waiting, 1)  # woken at once, not at the read's timeout
    with pytest.raises(_ConnectionLost):
        reader.write(b"RSET\r\n")


async def test_nothing_to_read_is_a_timeout_not_a_hang() -> None:
    reader = reader_fed()
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(TimeoutError):
        await reader.read(SHORT)
    assert loop.time() - started < 2


async def test_write_goes_to_the_transport_until_it_is_closing() -> None:
    transport = FakeTransport()
    reader = _ReplyReader(transport)  # type: ignore[arg-type]
    reader.write(b"MAIL FROM:<a@b.nl>\r\n")
    transport.closing = True
    with pytest.raises(_ConnectionLost):
        reader.write(b"RCPT TO:<c@d.nl>\r\n")
    assert transport.written == [b"MAIL FROM:<a@b.nl>\r\n"]


@dataclass
class Wire:
    reader: _ReplyReader
    relay: socket.socket  # the relay's end, blocking


@pytest.fixture
async def wire() -> AsyncIterator[Wire]:
    """The reader on one end of a socket pair, handed the transport as the sender does."""
    ours, relay = socket.socketpair()
    transport, _ = await asyncio.get_running_loop().create_connection(asyncio.Protocol, sock=ours)
    reader = _ReplyReader(transport)  # type: ignore[arg-type]
    transport.set_protocol(reader)
    yield Wire(reader, relay)
    transport.close()
    relay.close()
    await asyncio.sleep(0)  # let the transport finish closing inside this loop


async def test_over_a_real_socket_pieces_replies_and_a_hang_up(wire: Wire) -> None:
    wire.reader.write(b"EHLO client.test\r\n")
    assert wire.relay.recv(100) == b"EHLO client.test\r\n"
    for piece in (b"250-relay.test\r\n25", b"0-PIPE", b"LINING\r\n250 OK\r\n354 go\r\n"):
        wire.relay.sendall(piece)
        await asyncio.sleep(0.01)
    assert await wire.reader.read(5) == Reply(250, "relay.test\nPIPELINING\nOK")
    assert await wire.reader.read(5) == Reply(354, "go")
    wire.relay.sendall(b"250-half a rep")
    wire.relay.close()  # the relay hangs up in the middle of a reply
    with pytest.raises(_ConnectionLost):
        await wire.reader.read(5)
