"""Each subscriber's message, spliced from one serialised template per edition.

``message.build_message`` takes a few milliseconds (header objects, MIME tree,
quoted-printable over ~100 KB); at thousands of messages a second that would be the whole
budget. So the edition is built once, for a template recipient, and cut into pieces:

* headers: To, Date, Message-ID and List-Unsubscribe are the personal ones; every other
  header line is reused byte for byte;
* bodies: quoted-printable encodes each source line on its own (a hard line break resets
  the encoder), so only the few source lines that hold a placeholder (greeting,
  unsubscribe and browser links) are encoded again per subscriber, byte for byte as the
  encoder ``message.py`` uses does it, with its line length (``quoted_printable.py``).
  A placeholder can never be split by a soft line break, because lines are re-encoded
  whole, and the 78-character limit holds because the encoder enforces it.

The splice is checked when the edition is prepared: the template recipient and a probe
recipient with an accented name must come out identical to ``build_message`` (up to the
random MIME boundary). If they do not (message.py changed in a way the splice does not
understand), every message is built with ``build_message`` instead: slower, never wrong.
"""

from __future__ import annotations

import dataclasses
import email.policy
import logging
import re
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Protocol

from newsletter.config import NewsletterSection
from newsletter.errors import RenderError
from newsletter.mail.message import SERIALISE_POLICY, build_message
from newsletter.mail.quoted_printable import encode_line
from newsletter.mail.render import (
    PLACEHOLDERS,
    Recipient,
    RenderedEdition,
    personalise,
    recipient_for,
)

log = logging.getLogger(__name__)

# message.py builds the body parts under policy.default and serialises with policy.SMTP.
_QP_LINE_LENGTH = email.policy.default.max_line_length or 78
_PLACEHOLDER_BYTES = tuple(placeholder.encode() for placeholder in PLACEHOLDERS)
_TEMPLATE_ADDRESS = "template@example.invalid"
_TEMPLATE_NOW = datetime(2000, 1, 3, 7, 0, tzinfo=UTC)
_PROBE_NAME = "Zoë 'Jansen, Piet' van der Tëst"
# A display name made of these needs neither quoting nor RFC 2047 encoding.
_PLAIN_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+/^_`{|}~-]+(?: [A-Za-z0-9!#$%&'*+/^_`{|}~-]+)*")
_PLAIN_ADDRESS = re.compile(r"[a-z0-9!#$%&'*+/=?^_`{|}~.-]+@[a-z0-9.-]+")
_BOUNDARY = re.compile(rb'boundary="([^"]+)"')


class DotStuffed(bytes):
    """A message already in the form DATA sends: dot-stuffed, ending in ``CRLF.CRLF``.

    The composer makes it from pieces stuffed once per edition, so the ~70 KB text is
    not searched and copied again for every copy."""


def dot_stuff(message: bytes) -> bytes:
    """RFC 5321 4.5.2: a line starting with "." gets another one; then the final ".".

    The message must already use CRLF line endings (message.py writes them).
    """
    if message.startswith(b"."):
        message = b"." + message
    if b"\r\n." in message:
        message = message.replace(b"\r\n.", b"\r\n..")
    if not message.endswith(b"\r\n"):
        message += b"\r\n"
    return message + b".\r\n"


class MessageIds(Protocol):
    """The Message-IDs of one edition, by subscriber (the delivery ledger makes them)."""

    def for_subscriber(self, subscriber_id: int) -> str: ...


class Signer(Protocol):
    """Signs a finished message (the DKIM signer that the sending side makes)."""

    def sign(self, message: bytes) -> bytes: ...


class _CannotSplice(RenderError):
    """The template does not have the shape the splice relies on."""


def _qp_line(line: bytes) -> bytes:
    """One source line as message.py's encoder writes it, with SMTP line endings."""
    return encode_line(line, _QP_LINE_LENGTH)


class _Body:
    """One quoted-printable body: encoded static runs and the source of the dynamic lines."""

    def __init__(self, source: str, personalised: str) -> None:
        source_lines = source.encode("utf-8").splitlines()
        template_lines = personalised.encode("utf-8").splitlines()
        if len(source_lines) != len(template_lines):
            raise _CannotSplice("personalising changed the number of lines")
        self.dynamic_source = "\n".join(
            line.decode("utf-8")
            for line in source_lines
            if any(placeholder in line for placeholder in _PLACEHOLDER_BYTES)
        )
        self.dynamic_count = self.dynamic_source.count("\n") + 1 if self.dynamic_source else 0
        # pieces: encoded static bytes, or None where the next dynamic line goes
        self.pieces: list[bytes | None] = []
        static: list[bytes] = []
        for source_line, template_line in zip(source_lines, template_lines, strict=True):
            if any(placeholder in source_line for placeholder in _PLACEHOLDER_BYTES):
                self.pieces.append(b"".join(static))
                self.pieces.append(None)
                static = []
            else:
                static.append(_qp_line(template_line))
        self.pieces.append(b"".join(static))
        self.encoded_template = b"".join(_qp_line(line) for line in template_lines)

        self.stuffed_pieces = [None if piece is None else _stuffed(piece) for piece in self.pieces]

    def render(self, personal_lines: list[str], out: list[bytes], *, stuffed: bool) -> None:
        lines = iter(personal_lines)
        for piece in self.stuffed_pieces if stuffed else self.pieces:
            if piece is not None:
                out.append(piece)
                continue
            line = _qp_line(next(lines).encode("utf-8"))  # soft breaks make several lines
            out.append(_stuffed(line) if stuffed else line)


def _stuffed(lines: bytes) -> bytes:
    """Whole lines dot-stuffed for DATA (RFC 5321 4.5.2): a leading "." is doubled."""
    return (b"." if lines.startswith(b".") else b"") + lines.replace(b"\r\n.", b"\r\n..")


class _Splicer:
    def __init__(
        self, edition: RenderedEdition, newsletter: NewsletterSection, template: Recipient
    ) -> None:
        self._template = template
        self._token = template.unsubscribe_url.rstrip("/").rsplit("/", 1)[-1]
        self._unsubscribe_prefix = template.unsubscribe_url[: -len(self._token)]
        message = build_message(
            edition,
            template,
            newsletter,
            now=_TEMPLATE_NOW,
            message_id="<template@example.invalid>",
        )
        header_end = message.find(b"\r\n\r\n")
        if header_end < 0:
            raise _CannotSplice("no end of headers")
        self._headers: list[bytes | str] = []
        for name, raw in _header_fields(message[: header_end + 2]):
            if name in ("to", "date", "message-id"):
                self._headers.append(name)
            elif name == "list-unsubscribe":
                self._unsubscribe_parts = raw.split(self._token.encode())
                if len(self._unsubscribe_parts) < 2:
                    raise _CannotSplice("the unsubscribe token is not in List-Unsubscribe")
                self._headers.append(name)
            else:
                self._headers.append(raw)
        if "list-unsubscribe" not in self._headers:
            raise _CannotSplice("no List-Unsubscribe header")
        html, text = personalise(edition, template)
        self._text = _Body(edition.text, text)
        self._html = _Body(edition.html, html)
        self._dynamic = dataclasses.replace(
            edition, html=self._html.dynamic_source, text=self._text.dynamic_source
        )
        rest = message[header_end + 2 :]
        text_at = rest.find(self._text.encoded_template)
        html_at = rest.find(self._html.encoded_template, text_at + 1)
        if text_at < 0 or html_at < 0:
            raise _CannotSplice("the encoded bodies are not where expected")
        self._skeleton = (
            rest[:text_at],
            rest[text_at + len(self._text.encoded_template) : html_at],
            rest[html_at + len(self._html.encoded_template) :],
        )
        self._stuffed_skeleton = tuple(_stuffed(part) for part in self._skeleton)
        self._date_second = -1
        self._date_line = b""

    def splice(
        self, recipient: Recipient, *, now: datetime, message_id: str, stuffed: bool = False
    ) -> bytes | None:
        """The message for ``recipient``; None when this recipient needs the slow path.

        ``stuffed``: in DATA form (see :class:`DotStuffed`), from pieces stuffed once.
        Header lines never start with a dot, and every piece starts a line, so stuffing
        piece by piece is stuffing the whole (``Composer`` checks it on a probe).
        """
        token = recipient.unsubscribe_url.rstrip("/").rsplit("/", 1)[-1]
        if recipient.unsubscribe_url != self._unsubscribe_prefix + token:
            return None
        to_line = _to_line(recipient)
        html, text = personalise(self._dynamic, recipient)
        html_lines, text_lines = html.split("\n"), text.split("\n")
        if (len(html_lines), len(text_lines)) != (
            self._html.dynamic_count,
            self._text.dynamic_count,
        ):
            return None
        out: list[bytes] = []
        for header in self._headers:
            if isinstance(header, bytes):
                out.append(header)
            elif header == "to":
                out.append(to_line)
            elif header == "date":
                out.append(self._date(now))
            elif header == "message-id":
                out.append(b"Message-ID: " + message_id.encode("ascii") + b"\r\n")
            else:
                out.append(token.encode("ascii").join(self._unsubscribe_parts))
        skeleton = self._stuffed_skeleton if stuffed else self._skeleton
        out.append(skeleton[0])
        self._text.render(text_lines, out, stuffed=stuffed)
        out.append(skeleton[1])
        self._html.render(html_lines, out, stuffed=stuffed)
        out.append(skeleton[2])
        if stuffed:
            out.append(b".\r\n")
        return b"".join(out)

    def _date(self, now: datetime) -> bytes:
        second = int(now.timestamp())
        if second != self._date_second:
            self._date_second = second
            self._date_line = b"Date: " + format_datetime(now).encode("ascii") + b"\r\n"
        return self._date_line


def _header_fields(block: bytes) -> list[tuple[str, bytes]]:
    """(lower-case name, raw bytes incl. folded continuation lines) for each header."""
    fields: list[tuple[str, bytes]] = []
    for line in block.split(b"\r\n")[:-1]:
        if line[:1] in (b" ", b"\t") and fields:
            name, raw = fields[-1]
            fields[-1] = (name, raw + line + b"\r\n")
        else:
            fields.append((line.split(b":", 1)[0].decode("ascii").lower(), line + b"\r\n"))
    return fields


def _to_line(recipient: Recipient) -> bytes:
    """The To header exactly as message.py writes it; plain names skip the email package."""
    name = recipient.name
    address = recipient.email
    if _PLAIN_ADDRESS.fullmatch(address) and len(address) + len(name or "") < 900:
        if name is None:
            return f"To: {address}\r\n".encode("ascii")
        if _PLAIN_NAME.fullmatch(name):
            return f"To: {name} <{address}>\r\n".encode("ascii")
    message = EmailMessage(policy=email.policy.default)
    message["To"] = Address(display_name=name or "", addr_spec=address)
    return message.as_bytes(policy=SERIALISE_POLICY)[:-2]


def without_boundary(message: bytes) -> bytes:
    """The message with its random MIME boundary replaced by a fixed one, for comparing."""
    found = _BOUNDARY.search(message)
    return message.replace(found.group(1), b"BOUNDARY") if found else message


class Composer:
    """Makes each subscriber's message of one edition: spliced, signed when configured.

    It is given finished values: the ``[newsletter]`` section the headers come from, the
    key that signs the unsubscribe links, and the DKIM signer (None: unsigned).
    """

    def __init__(
        self,
        edition: RenderedEdition,
        newsletter: NewsletterSection,
        message_ids: MessageIds,
        *,
        secret: str,
        signer: Signer | None,
    ) -> None:
        self.edition = edition
        self._newsletter = newsletter
        self._secret = secret
        self.message_ids = message_ids
        self._signer = signer
        template = self.recipient(0, _TEMPLATE_ADDRESS, None)
        self._splicer: _Splicer | None = None
        try:
            splicer = _Splicer(edition, newsletter, template)
            self._check(splicer, template)
            self._check(splicer, dataclasses.replace(template, name=_PROBE_NAME))
            self._splicer = splicer
        except _CannotSplice as exc:
            log.warning("building every message in full (slower): %s", exc)

    @property
    def spliced(self) -> bool:
        return self._splicer is not None

    def recipient(self, subscriber_id: int, email_address: str, name: str | None) -> Recipient:
        return recipient_for(
            self._newsletter.base_url,
            self._secret,
            subscriber_id,
            email_address,
            name,
            post_slug=self.edition.post_slug,
        )

    def compose(
        self, recipient: Recipient, subscriber_id: int, *, now: datetime, for_smtp: bool = False
    ) -> bytes:
        """The subscriber's message; ``for_smtp`` may return it already in DATA form
        (:class:`DotStuffed`) when it is spliced and not DKIM-signed here."""
        message_id = self.message_ids.for_subscriber(subscriber_id)
        message = None
        if self._splicer is not None and for_smtp and self._signer is None:
            wire = self._splicer.splice(recipient, now=now, message_id=message_id, stuffed=True)
            if wire is not None:
                return DotStuffed(wire)
        if self._splicer is not None:
            message = self._splicer.splice(recipient, now=now, message_id=message_id)
        if message is None:
            message = self.build(recipient, now=now, message_id=message_id)
        return self._signer.sign(message) if self._signer else message

    def build(self, recipient: Recipient, *, now: datetime, message_id: str) -> bytes:
        """The reference: message.py's own output for this recipient."""
        return build_message(
            self.edition, recipient, self._newsletter, now=now, message_id=message_id
        )

    def _check(self, splicer: _Splicer, recipient: Recipient) -> None:
        message_id = "<probe@example.invalid>"
        spliced = splicer.splice(recipient, now=_TEMPLATE_NOW, message_id=message_id)
        built = self.build(recipient, now=_TEMPLATE_NOW, message_id=message_id)
        if spliced is None or without_boundary(spliced) != without_boundary(built):
            raise _CannotSplice("the spliced message differs from build_message's")
        stuffed = splicer.splice(recipient, now=_TEMPLATE_NOW, message_id=message_id, stuffed=True)
        if stuffed != dot_stuff(spliced):
            raise _CannotSplice("the spliced message is not dot-stuffed as dot_stuff does it")
