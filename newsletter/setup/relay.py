"""The ``relay`` check: can the configured relay be reached, trusted and logged in to?

It walks a session the way the sender opens one (TCP, implicit TLS or STARTTLS with the
same verifying TLS context, EHLO, AUTH when a user is configured), then says QUIT. No
MAIL command is given, so nothing is sent. Each step is taken on its own so that a
failure names the step and the fix: a refused port, a certificate the system does not
trust, a wrong password are three different problems for the person reading it.
"""

from __future__ import annotations

import asyncio
import socket
import ssl

import aiosmtplib

from newsletter.delivery.smtp import tls_context
from newsletter.errors import DeliveryError
from newsletter.setup.checkup import Checkup, Finding, is_loopback


def check_relay(checkup: Checkup) -> Finding:
    settings = checkup.settings
    smtp = settings.smtp
    if settings.transport == "maildir":
        if smtp.transport == "maildir":
            return Finding(
                "warn",
                f"smtp.transport is 'maildir': editions go to {settings.maildir_path}, not to "
                "readers; set smtp.transport = 'auto' and smtp.host for production",
            )
        return Finding(
            "fail",
            "no relay: smtp.host is empty, so editions go to the local outbox only; "
            "set smtp.host (and smtp.username) to your provider's SMTP server",
        )
    if smtp.username and settings.smtp_password is None:
        return Finding(
            "fail",
            f"smtp.username is {smtp.username!r} but there is no password: "
            "set NEWSLETTER_SMTP_PASSWORD or smtp.password_file",
        )
    try:
        context = tls_context(smtp)
    except DeliveryError as exc:
        return Finding("fail", str(exc))
    password = settings.smtp_password.reveal() if settings.smtp_password else ""
    problem, done = asyncio.run(_probe(checkup, context, password))
    if problem is not None:
        return Finding("fail", problem)
    if smtp.security == "none" and not is_loopback(smtp.host):
        return Finding(
            "warn",
            f"{done}, but in plain text over the network: set smtp.security to "
            "'starttls' (port 587) or 'tls' (port 465)",
        )
    return Finding("ok", done)


async def _probe(
    checkup: Checkup, context: ssl.SSLContext | None, password: str
) -> tuple[str | None, str]:
    """(the problem, or None; what worked). The session ends with QUIT, never with MAIL."""
    smtp = checkup.settings.smtp
    where = f"{smtp.host}:{smtp.port}"
    client = aiosmtplib.SMTP(
        hostname=smtp.host,
        port=smtp.port,
        local_hostname=socket.getfqdn(),
        timeout=smtp.timeout,
        use_tls=smtp.security == "tls",
        start_tls=False,
        tls_context=context,
    )
    steps: list[str] = []
    try:
        try:
            await client.connect()
        except (aiosmtplib.SMTPException, OSError) as exc:
            return _connection_problem(where, exc), ""
        steps.append("TLS" if smtp.security == "tls" else "connected")
        await client.ehlo()
        if smtp.security == "starttls":
            if not client.supports_extension("starttls"):
                return (
                    f"{where} does not offer STARTTLS: use the relay's submission port (587) "
                    "or smtp.security = 'tls' on port 465",
                    "",
                )
            try:
                await client.starttls(tls_context=context)
            except (aiosmtplib.SMTPException, OSError) as exc:
                return _connection_problem(where, exc), ""
            steps.append("STARTTLS")
            await client.ehlo()
        steps.append("EHLO")
        if smtp.username:
            if not client.supports_extension("auth"):
                return (
                    f"{where} offers no AUTH (after {', '.join(steps)}): check smtp.security "
                    "and smtp.port, or clear smtp.username if the relay trusts this host",
                    "",
                )
            try:
                await client.login(smtp.username, password)
            except aiosmtplib.SMTPAuthenticationError as exc:
                return (
                    f"{where} refused the login of {smtp.username!r}: {exc.code} "
                    f"{exc.message}; check smtp.username and the password",
                    "",
                )
            steps.append(f"AUTH as {smtp.username}")
        try:
            await client.quit()
        except aiosmtplib.SMTPException:
            client.close()
    except (aiosmtplib.SMTPException, OSError) as exc:
        client.close()
        return f"{where}: the session broke off after {', '.join(steps)}: {exc}", ""
    return None, f"{where}: {', '.join(steps)} (nothing sent)"


def _connection_problem(where: str, exc: BaseException) -> str:
    """A refused port, a timeout and a certificate problem, each said as the user needs it."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return (
                f"the certificate of {where} is not trusted ({cause.verify_message}): use the "
                "host name on the relay's certificate, or name its CA in smtp.ca_file"
            )
        if isinstance(cause, ssl.SSLError):
            return f"TLS with {where} failed ({cause.reason or cause}): check smtp.security"
        cause = cause.__cause__ or cause.__context__
    if isinstance(exc, TimeoutError):
        return f"no answer from {where} within the timeout: check smtp.host, smtp.port, firewall"
    reason = getattr(exc, "strerror", None) or str(exc)
    return f"cannot connect to {where}: {reason}; check smtp.host and smtp.port"
