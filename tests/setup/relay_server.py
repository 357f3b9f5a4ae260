"""An aiosmtpd relay on 127.0.0.1 for the doctor's relay check: STARTTLS required, then
AUTH (PLAIN, LOGIN) with one user, with a certificate for 127.0.0.1 from a test CA.

It records every command it was given, so a test can prove the check sent no mail.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

USER = "nieuwsbrief@gerritvanderheide.nl"
PASSWORD = "k3ep-Th1s-s3cret!"


class Recorder:
    def __init__(self) -> None:
        self.commands: list[str] = []
        self.logins: list[tuple[str, bool]] = []  # user, accepted

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        ok = (data.login.decode(), data.password.decode()) == (USER, PASSWORD)
        self.logins.append((data.login.decode(), ok))
        return AuthResult(success=ok, handled=False)


class RecordingSMTP(SMTP):  # type: ignore[misc]
    def _recorder(self) -> Recorder:
        return self.event_handler  # type: ignore[no-any-return]

    async def smtp_MAIL(self, arg: str) -> None:
        self._recorder().commands.append("MAIL")
        await super().smtp_MAIL(arg)

    async def smtp_RCPT(self, arg: str) -> None:
        self._recorder().commands.append("RCPT")
        await super().smtp_RCPT(arg)

    async def smtp_DATA(self, arg: str) -> None:
        self._recorder().commands.append("DATA")
        await super().smtp_DATA(arg)

    async def smtp_QUIT(self, arg: str) -> None:
        self._recorder().commands.append("QUIT")
        await super().smtp_QUIT(arg)


async def _shut_down(server: asyncio.Server) -> None:
    """End the sessions still open (a client that gave up mid-handshake leaves one)."""
    server.close()
    sessions = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in sessions:
        task.cancel()
    await asyncio.gather(*sessions, return_exceptions=True)
    await server.wait_closed()


@contextmanager
def relay(server_tls: ssl.SSLContext) -> Iterator[tuple[int, Recorder]]:
    """Yields (port, recorder) of a STARTTLS + AUTH relay running in a thread."""
    recorder = Recorder()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    port = 0

    def serve() -> None:
        nonlocal port
        asyncio.set_event_loop(loop)

        def factory() -> SMTP:
            return RecordingSMTP(
                recorder,
                hostname="relay.test",
                tls_context=server_tls,
                require_starttls=True,
                auth_required=True,
                auth_require_tls=True,
                authenticator=recorder.authenticate,
            )

        server = loop.run_until_complete(loop.create_server(factory, "127.0.0.1", 0))
        port = server.sockets[0].getsockname()[1]
        ready.set()
        loop.run_forever()
        loop.run_until_complete(_shut_down(server))
        loop.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    ready.wait(5)
    try:
        yield port, recorder
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
