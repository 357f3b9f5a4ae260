"""After the relay pushes back, a connection stops pipelining until the relay accepts again.

A small SMTP server of the test's own records the commands each read from the socket
brought: a pipelined transaction brings MAIL, RCPT and DATA in one write; a careful one
cannot, as it waits for each reply before the next command.
"""

from __future__ import annotations

import asyncio

from newsletter.delivery.smtp import SmtpConnection
from tests.support.settings import make_settings, relay

TOO_MUCH = b"450 4.7.1 Error: too much mail from 127.0.0.1\r\n"


class PushingBackRelay:
    """Offers PIPELINING, refuses the first MAIL as Postfix's anvil does, takes the rest."""

    def __init__(self) -> None:
        self.reads: list[list[str]] = []  # the commands in each read
        self._mails = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 relay.test ESMTP\r\n")
        buffer, in_text, refused = b"", False, False
        while chunk := await reader.read(65536):
            buffer += chunk
            *lines, buffer = buffer.split(b"\r\n")
            commands = []
            for line in lines:
                if in_text:
                    in_text = line != b"."
                    if not in_text:
                        writer.write(b"250 2.0.0 Ok: queued\r\n")
                    continue
                verb = line[:4].upper().decode()
                commands.append(verb)
                if verb == "MAIL":
                    self._mails += 1
                    refused = self._mails == 1
                    writer.write(TOO_MUCH if refused else b"250 2.1.0 Ok\r\n")
                elif verb == "RCPT":
                    writer.write(b"503 5.5.1 Error: need MAIL\r\n" if refused else b"250 Ok\r\n")
                elif verb == "DATA":
                    in_text = not refused
                    writer.write(b"554 5.5.1 no valid recipients\r\n" if refused else b"354 go\r\n")
                elif verb == "EHLO":
                    writer.write(b"250-relay.test\r\n250 PIPELINING\r\n")
                elif verb == "QUIT":
                    writer.write(b"221 bye\r\n")
                else:
                    writer.write(b"250 Ok\r\n")
            if commands:
                self.reads.append(commands)
            await writer.drain()
        writer.close()


async def test_after_a_pushback_the_next_transaction_is_not_pipelined() -> None:
    relay_server = PushingBackRelay()
    server = await asyncio.start_server(relay_server.serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    connection = SmtpConnection(make_settings(smtp=relay(port)).smtp, None, "sender.test")
    message = b"Subject: test\r\n\r\nHallo\r\n"
    try:
        attempts = [
            await connection.deliver("nieuwsbrief@example.nl", f"lezer{n}@example.nl", message)
            for n in range(3)
        ]
    finally:
        await connection.close()
        server.close()
        await server.wait_closed()
    assert [attempt.pushback for attempt in attempts] == [True, False, False]
    assert attempts[1].outcome == attempts[2].outcome == "sent"
    transactions = [read for read in relay_server.reads if "MAIL" in read]
    assert transactions[0] == ["MAIL", "RCPT", "DATA"], "the first one was pipelined"
    assert transactions[1] == ["MAIL"], "pipelined again right after the pushback"
    assert transactions[2] == ["MAIL", "RCPT", "DATA"], "still careful after an accept"
