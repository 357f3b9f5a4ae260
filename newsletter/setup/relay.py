"""The ``relay`` check: can the configured relay be reached, trusted and logged in to?

It walks a session the way the sender opens one (TCP, implicit TLS or STARTTLS with the
same verifying TLS context, EHLO, AUTH when a user is configured), then says QUIT. The
standard library's blocking client is enough for one session and closes its socket when
told to, where an event loop would have to be kept alive for the TLS shutdown. No
MAIL command is given, so nothing is sent. Each step is taken on its own so that a
failure names the step and the fix: a refused port, a certificate the system does not
trust, a wrong password are three different problems for the person reading it.
"""

from __future__ import annotations

import contextlib
import os
import smtplib
import socket
import ssl

from newsletter.config import SmtpSection
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
    steps: list[str] = []
    problem = _probe(smtp, context, password, steps)
    where = f"{smtp.host}:{smtp.port}"
    if problem is not None:
        return Finding("fail", problem)
    done = f"{where}: {', '.join(steps)} (nothing sent)"
    if smtp.security == "none" and not is_loopback(smtp.host):
        return Finding(
            "warn",
            f"{done}, but in plain text over the network: set smtp.security to "
            "'starttls' (port 587) or 'tls' (port 465)",
        )
    return Finding("ok", done)


def _probe(
    smtp: SmtpSection, context: ssl.SSLContext | None, password: str, steps: list[str]
) -> str | None:
    """Connect, TLS, EHLO, AUTH, appending each step that worked; the problem or None.
    The session ends with QUIT, never with MAIL."""
    where = f"{smtp.host}:{smtp.port}"
    client: smtplib.SMTP
    try:
        if smtp.security == "tls":
            client = smtplib.SMTP_SSL(
                smtp.host, smtp.port, socket.getfqdn(), timeout=smtp.timeout, context=context
            )
            steps.append("TLS")
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, socket.getfqdn(), timeout=smtp.timeout)
            steps.append("connected")
    except (smtplib.SMTPException, OSError) as exc:
        return _connection_problem(where, exc)
    try:
        return _session(client, smtp, password, context, where, steps)
    except (smtplib.SMTPException, OSError) as exc:
        return f"{where}: the session broke off after {', '.join(steps)}: {exc}"
    finally:
        with contextlib.suppress(smtplib.SMTPException, OSError):
            client.quit()
        client.close()


def _session(
    client: smtplib.SMTP,
    smtp: SmtpSection,
    password: str,
    context: ssl.SSLContext | None,
    where: str,
    steps: list[str],
) -> str | None:
    client.ehlo()
    if smtp.security == "starttls":
        if not client.has_extn("starttls"):
            return (
                f"{where} does not offer STARTTLS: use the relay's submission port (587) "
                "or smtp.security = 'tls' on port 465"
            )
        try:
            client.starttls(context=context)
        except (smtplib.SMTPException, OSError) as exc:
            return _connection_problem(where, exc)
        steps.append("STARTTLS")
        client.ehlo()
    steps.append("EHLO")
    if smtp.username:
        if not client.has_extn("auth"):
            return (
                f"{where} offers no AUTH (after {', '.join(steps)}): check smtp.security "
                "and smtp.port, or clear smtp.username if the relay trusts this host"
            )
        try:
            client.login(smtp.username, password)
        except smtplib.SMTPAuthenticationError as exc:
            error = exc.smtp_error
            reply = error.decode("utf-8", "replace") if isinstance(error, bytes) else error
            return (
                f"{where} refused the login of {smtp.username!r}: {exc.smtp_code} {reply}; "
                "check smtp.username and the password"
            )
        steps.append(f"AUTH as {smtp.username}")
    return None


def _connection_problem(where: str, exc: BaseException) -> str:
    """A refused port, a timeout and a certificate problem, each said as the user needs it."""
    reason: str = str(exc)
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return (
                f"the certificate of {where} is not trusted ({cause.verify_message}): use the "
                "host name on the relay's certificate, or name its CA in smtp.ca_file"
            )
        if isinstance(cause, ssl.SSLError):
            return f"TLS with {where} failed ({cause.reason or cause}): check smtp.security"
        if isinstance(cause, TimeoutError):
            return f"no answer from {where} in time: check smtp.host, smtp.port and the firewall"
        if isinstance(cause, OSError) and cause.errno:
            reason = os.strerror(cause.errno)  # asyncio's own text names the address again
        cause = cause.__cause__ or cause.__context__
    return f"cannot connect to {where}: {reason}; check smtp.host and smtp.port"
