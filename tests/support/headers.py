"""The structural checks a bulk sender's message must pass, as one function.

Written for this suite after the offline checks the project was built against (RFC 5322
and 2045 structure, RFC 2369 and 8058 one-click unsubscribe, the Gmail and Yahoo
bulk-sender rules), so that the tests need nothing outside the repository.
"""

from __future__ import annotations

import email
import email.policy
import re
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser

ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
# RFC 2919 List-Id: a phrase, then <label.namespace>; Gmail's Feedback-ID: a:b:c:SenderId.
LIST_ID = re.compile(
    r"(?:\S.*\s)?<[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)+>"
)
FEEDBACK_ID = re.compile(r"(?:[^:\s]*:){0,3}[^:\s]{5,15}")
SINGLETONS = (
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "MIME-Version",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "Reply-To",
    "Sender",
    "Content-Type",
)


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs.extend(value for name, value in attrs if name == "href" and value)


def wire_headers(raw: bytes) -> list[tuple[str, str]]:
    """(name, value) of every header as sent: unfolded, RFC 2047 words left as they are."""
    head = re.split(rb"\r?\n\r?\n", raw, maxsplit=1)[0].decode("ascii", "replace")
    pairs = []
    for line in re.split(r"\r?\n", re.sub(r"\r?\n(?=[ \t])", "", head)):
        name, colon, value = line.partition(":")
        if colon:
            pairs.append((name, value.strip()))
    return pairs


def bulk_sender_problems(raw: bytes) -> list[str]:
    """Every way ``raw`` falls short of what providers expect of a newsletter; [] if none."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    on_wire = wire_headers(raw)
    problems: list[str] = []

    def need(ok: object, what: str) -> None:
        if not ok:
            problems.append(what)

    try:
        date = parsedate_to_datetime(str(message["Date"])) if message["Date"] else None
    except (TypeError, ValueError):
        date = None
    need(date is not None and date.tzinfo is not None, "Date with a time zone")
    message_id = re.fullmatch(r"\s*<([^<>@\s]+)@([^<>@\s]+)>\s*", str(message["Message-ID"] or ""))
    need(message_id and "." in message_id[2], "Message-ID <local@domain.tld>")
    senders = message["From"].addresses if message["From"] else ()
    need(len(senders) == 1 and "." in senders[0].domain, "one From with a domain")
    readers = message["To"].addresses if message["To"] else ()
    need(readers and all("@" in a.addr_spec for a in readers), "To")
    need(str(message["Subject"] or "").strip(), "Subject")
    need(str(message.get("MIME-Version", "")).strip() == "1.0", "MIME-Version 1.0")

    alternative = next(
        (p for p in message.walk() if p.get_content_type() == "multipart/alternative"), None
    )
    kinds = [p.get_content_type() for p in alternative.iter_parts()] if alternative else []
    need(
        "text/plain" in kinds
        and "text/html" in kinds
        and kinds.index("text/plain") < kinds.index("text/html"),
        "multipart/alternative: text/plain before text/html",
    )
    texts = [
        p for p in message.walk() if p.get_content_maintype() == "text" and not p.is_attachment()
    ]
    for part in texts:
        need(
            (part.get_content_charset() or "").lower() in ("utf-8", "utf8"),
            f"UTF-8 charset on {part.get_content_type()}",
        )
        try:
            bytes(part.get_payload(decode=True)).decode("utf-8")
        except UnicodeDecodeError:
            problems.append(f"{part.get_content_type()} is valid UTF-8")

    unsubscribe = [v for n, v in on_wire if n.lower() == "list-unsubscribe"]
    need(unsubscribe, "List-Unsubscribe")
    need(not (unsubscribe and ENCODED_WORD.search(unsubscribe[0])), "List-Unsubscribe unencoded")
    https = [
        url
        for url in re.findall(r"<([^>]*)>", unsubscribe[0] if unsubscribe else "")
        if url.lower().startswith("https://")
    ]
    need(https, "an https URL in List-Unsubscribe")
    one_click = [v for n, v in on_wire if n.lower() == "list-unsubscribe-post"]
    need(one_click == ["List-Unsubscribe=One-Click"], "List-Unsubscribe-Post one-click")
    if https:
        links = _Links()
        for part in texts:
            if part.get_content_type() == "text/html":
                links.feed(part.get_content())
        need(https[0] in links.hrefs, "the unsubscribe URL as a link in the HTML")
        need(
            any(https[0] in p.get_content() for p in texts if p.get_content_type() == "text/plain"),
            "the unsubscribe URL in the text part",
        )

    for name, form, value in (
        ("List-Id", LIST_ID, [v for n, v in on_wire if n.lower() == "list-id"]),
        ("Feedback-ID", FEEDBACK_ID, [v for n, v in on_wire if n.lower() == "feedback-id"]),
    ):
        need(len(value) <= 1 and all(form.fullmatch(v) for v in value), f"{name} well formed")

    crlf = raw.count(b"\r\n")
    need(raw.count(b"\r") == crlf, "no bare CR")
    need(not crlf or raw.count(b"\n") == crlf, "no bare LF among CRLF")
    need(max(len(line.rstrip(b"\r")) for line in raw.split(b"\n")) <= 998, "lines <= 998")
    quoted_printable = [
        len(line)
        for part in message.walk()
        if str(part.get("Content-Transfer-Encoding", "")).lower() == "quoted-printable"
        for line in part.get_payload(decode=False).splitlines()
    ]
    need(all(n <= 78 for n in quoted_printable), "quoted-printable lines <= 78")

    for name, value in message.items():
        need("\r" not in str(value) and "\n" not in str(value), f"no CR/LF in {name}")
        need(re.fullmatch(r"[!-9;-~]+", name), f"header name {name!r}")
    for name in SINGLETONS:
        need(len(message.get_all(name) or []) <= 1, f"{name} at most once")
    need(not any(p.defects for p in message.walk()), "no MIME defects")
    need(not any(getattr(v, "defects", ()) for _, v in message.items()), "no header defects")

    signatures = [v for n, v in on_wire if n.lower() == "dkim-signature"]
    if signatures:
        covered = re.search(r"\bh=([^;]+)", signatures[0])
        signed = {h.strip().lower() for h in (covered[1] if covered else "").split(":")}
        need(
            {"from", "list-unsubscribe", "list-unsubscribe-post"} <= signed,
            "DKIM covers From and List-Unsubscribe(-Post)",
        )
        listed = {n.lower() for n, _ in on_wire} & {"list-id", "feedback-id"}
        need(listed <= signed, "DKIM covers List-Id and Feedback-ID")
    return problems
