"""Returned messages built by hand for the pure classifier's tests (no database, no send):
a corpus message with its placeholders filled in for one made-up delivery, a DSN of
per-recipient blocks, a plain mail quoting ours."""

from __future__ import annotations

from newsletter.returns.parse import Verdict, classify

from .returned import CORPUS

MESSAGE_ID = "<3.2.20261207060000@gerritvanderheide.com>"
PLACEHOLDERS = {
    b"%%RETURN_PATH%%": b"bounces+2-abcdefghijklm@gerritvanderheide.com",
    b"%%FORGED_RETURN_PATH%%": b"bounces+2-aaaaaaaaaaaaa@gerritvanderheide.com",
    b"%%RECIPIENT%%": b"lezer1@voorbeeld.nl",
    b"%%MESSAGE_ID%%": MESSAGE_ID.encode(),
    b"%%FROM%%": b"nieuwsbrief@gerritvanderheide.com",
    b"%%BOUNCES%%": b"bounces@gerritvanderheide.com",
}


def only_verdict(raw: bytes) -> Verdict:
    """The verdict on a message that names one recipient."""
    (verdict,) = classify(raw)
    return verdict


def corpus(name: str) -> bytes:
    raw = (CORPUS / name).read_bytes()
    for placeholder, value in PLACEHOLDERS.items():
        raw = raw.replace(placeholder, value)
    return raw


def dsn(*blocks: str, human: str = "The mail system\n", headers: str = "") -> bytes:
    """A delivery status notification with one per-recipient block per argument."""
    recipients = "\n\n".join(blocks)
    return (
        "From: MAILER-DAEMON@mx.voorbeeld.nl (Mail Delivery System)\n"
        "To: bounces@gerritvanderheide.com\nSubject: Undelivered Mail Returned to Sender\n"
        f"{headers}MIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
        f"--B\nContent-Type: text/plain\n\n{human}\n"
        "--B\nContent-Type: message/delivery-status\n\n"
        f"Reporting-MTA: dns; mx.voorbeeld.nl\n\n{recipients}\n\n"
        "--B\nContent-Type: text/rfc822-headers\n\n"
        f"Message-ID: {MESSAGE_ID}\nTo: lezer1@voorbeeld.nl\n\n--B--\n"
    ).encode()


def block(address: str, status: str, diagnostic: str = "", action: str = "failed") -> str:
    lines = [f"Final-Recipient: rfc822; {address}", f"Action: {action}", f"Status: {status}"]
    if diagnostic:
        lines.append(f"Diagnostic-Code: smtp; {diagnostic}")
    return "\n".join(lines)


QUOTED = (
    f"> From: Gerrit <nieuwsbrief@gerritvanderheide.com>\n> To: lezer1@voorbeeld.nl\n"
    f"> Message-ID: {MESSAGE_ID}\n> List-Id: <nieuwsbrief.gerritvanderheide.com>\n>\n> Hallo,\n"
)


def mail(
    subject: str, body: str, headers: str = "", sender: str = "Piet <piet@elders.example>"
) -> bytes:
    return (
        f"From: {sender}\nTo: nieuwsbrief@gerritvanderheide.com\nSubject: {subject}\n"
        f"{headers}Content-Type: text/plain; charset=utf-8\n\n{body}"
    ).encode()
