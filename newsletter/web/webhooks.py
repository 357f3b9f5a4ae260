"""Relay webhooks: bounces and complaints as Amazon SES (through SNS), Postmark and Mailgun
report them. Each is off (404) until configured, and each request is verified its
relay's way before anything is read from it; a request that fails gets 401/403 and
changes nothing. What a verified event says goes to ``returns.apply``, the same place
returned mail goes, so a webhook retried by the relay changes nothing the second time.

* SES via SNS (``POST /webhooks/ses``): the SNS message signature (SignatureVersion 1:
  SHA1, 2: SHA256, RSA PKCS#1 v1.5) is checked against the signing certificate, which is
  fetched over https only from an SNS host (``sns.<region>.amazonaws.com``) and cached;
  the topic must be ``bounces.ses_topic_arn``; messages older than an hour are refused
  (a replay). A subscription confirmation is confirmed by fetching its SubscribeURL
  (an SNS host too).
* Postmark (``POST /webhooks/postmark``): HTTP basic auth, user ``bounces.postmark_user``,
  password from ``NEWSLETTER_POSTMARK_WEBHOOK_PASSWORD``.
* Mailgun (``POST /webhooks/mailgun``): HMAC-SHA256 of timestamp and token with the
  signing key (``NEWSLETTER_MAILGUN_SIGNING_KEY``); older than 5 minutes or a token seen
  before is a replay and refused.
* SendGrid (``POST /webhooks/sendgrid``): the signed Event Webhook, ECDSA P-256 with
  SHA-256 over the ``X-Twilio-Email-Event-Webhook-Timestamp`` header and the body, checked
  with the verification key (``NEWSLETTER_SENDGRID_VERIFICATION_KEY``, base64 DER as
  SendGrid shows it); older than 5 minutes is a replay and refused (an event seen before
  changes nothing anyway: its ``sg_event_id`` is stored with the report).

A payload is read through :class:`Payload`, which wants each field to have the type its
relay documents: anything else (a string where an object belongs, a list for a reason) is a
400 with one log line, even when validly signed, and changes nothing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import re
import secrets
import ssl
import threading
import time
import urllib.request
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from newsletter.config import Settings
from newsletter.db.database import Database
from newsletter.returns.apply import RelayEvent, process_event
from newsletter.web.context import json_object, route
from newsletter.web.relay_events import (
    Payload,
    Refused,
    mailgun_events,
    postmark_events,
    sendgrid_events,
    ses_events,
)

log = logging.getLogger(__name__)

SNS_HOST = re.compile(r"sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?")
SNS_MAX_AGE = timedelta(hours=1)
MAILGUN_MAX_AGE_SECONDS = 300
SENDGRID_MAX_AGE_SECONDS = 300
SENDGRID_SIGNATURE = "X-Twilio-Email-Event-Webhook-Signature"
SENDGRID_TIMESTAMP = "X-Twilio-Email-Event-Webhook-Timestamp"
_SECONDS = re.compile(r"[0-9]{1,12}")  # not str.isdigit: "²" is a digit that int() refuses
_SNS_FIELDS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
}


def _answer(status: int, **body: Any) -> Response:
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


@dataclass
class SnsVerifier:
    """Where SNS certificates and confirmations may come from, and how they are fetched.

    The defaults are Amazon's: https to an SNS host, the system's trust store. Tests pass
    a pattern admitting their own local https server and a context trusting its CA.
    """

    host_pattern: re.Pattern[str] = SNS_HOST
    tls: ssl.SSLContext | None = None
    _certificates: dict[str, rsa.RSAPublicKey] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def allowed(self, url: str) -> bool:
        try:
            parts = urlsplit(url)
        except ValueError:  # "https://[x": not a URL at all
            return False
        return parts.scheme == "https" and bool(self.host_pattern.fullmatch(parts.netloc.lower()))

    def fetch(self, url: str) -> bytes:
        if not self.allowed(url):
            raise Refused(403, "the URL is not an SNS host")
        context = self.tls or ssl.create_default_context()
        with urllib.request.urlopen(url, timeout=10, context=context) as answer:  # noqa: S310
            data: bytes = answer.read(64 * 1024)
            return data

    def public_key(self, url: str) -> rsa.RSAPublicKey:
        with self._lock:
            known = self._certificates.get(url)
        if known is not None:
            return known
        try:
            certificate = x509.load_pem_x509_certificate(self.fetch(url))
        except (OSError, ValueError) as exc:
            raise Refused(403, f"the signing certificate cannot be used: {exc}") from None
        key = certificate.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise Refused(403, "the signing certificate has no RSA key")
        with self._lock:
            self._certificates[url] = key
        return key

    def verify(self, message: Payload, now: datetime) -> None:
        kind = message.text("Type")
        fields = _SNS_FIELDS.get(kind)
        if fields is None:
            raise Refused(403, f"unexpected SNS message type {kind!r}")
        version = message.code("SignatureVersion")
        digest: hashes.HashAlgorithm
        if version == "1":
            digest = hashes.SHA1()  # noqa: S303 (SNS's signature version 1 is SHA1)
        elif version == "2":
            digest = hashes.SHA256()
        else:
            raise Refused(403, "unknown SNS signature version")
        text = "".join(f"{name}\n{message.text(name)}\n" for name in fields if message.has(name))
        try:
            signature = base64.b64decode(message.text("Signature"), validate=True)
        except (binascii.Error, ValueError):
            raise Refused(403, "the SNS signature is not base64") from None
        key = self.public_key(message.text("SigningCertURL"))
        try:
            key.verify(signature, text.encode("utf-8"), padding.PKCS1v15(), digest)
        except InvalidSignature:
            raise Refused(403, "the SNS signature does not verify") from None
        try:
            sent = datetime.fromisoformat(message.text("Timestamp").replace("Z", "+00:00"))
        except ValueError:
            raise Refused(403, "the SNS timestamp is unreadable") from None
        if sent.tzinfo is None:
            raise Refused(403, "the SNS timestamp has no time zone")
        if abs(now - sent) > SNS_MAX_AGE:
            raise Refused(403, "the SNS message is too old (a replay?)")


@dataclass
class _SeenTokens:
    """Mailgun tokens of the last minutes: a token seen twice is a replayed request."""

    limit: int = 10_000
    _seen: OrderedDict[str, float] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def first_time(self, token: str, now: float) -> bool:
        with self._lock:
            while self._seen and (
                len(self._seen) > self.limit
                or next(iter(self._seen.values())) < now - MAILGUN_MAX_AGE_SECONDS
            ):
                self._seen.popitem(last=False)
            if token in self._seen:
                return False
            self._seen[token] = now
            return True


class Webhooks:
    def __init__(
        self,
        settings: Settings,
        database: Database,
        sns: SnsVerifier | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.database = database
        self.sns = sns or SnsVerifier()
        self.clock = clock
        self.mailgun_tokens = _SeenTokens()

    def routes(self) -> list[Route]:
        return [
            route("/webhooks/ses", post=self.ses),
            route("/webhooks/postmark", post=self.postmark),
            route("/webhooks/mailgun", post=self.mailgun),
            route("/webhooks/sendgrid", post=self.sendgrid),
        ]

    async def _json(self, request: Request) -> Payload:
        body = await request.body()  # capped by BodySizeLimitMiddleware (1 MiB here)
        return Payload(json_object(body), "the body")

    async def _handle(self, request: Request, work: Callable[[Request], Any]) -> Response:
        try:
            result = await work(request)
        except Refused as exc:
            log.warning("webhook %s refused (%d): %s", request.url.path, exc.status, exc)
            return _answer(exc.status, ok=False, reason=str(exc))
        return _answer(200, ok=True, **result)

    async def _record(self, events: list[RelayEvent], source: str) -> dict[str, Any]:
        outcomes = []
        for event in events:
            processed = await run_in_threadpool(
                process_event, self.database, self.settings, event, source=source
            )
            outcomes.append(processed.result)
        return {"results": outcomes}

    # -- Amazon SES through SNS ------------------------------------------------------

    async def ses(self, request: Request) -> Response:
        if not self.settings.bounces.ses_topic_arn:
            return _answer(404, ok=False, reason="not configured")
        return await self._handle(request, self._ses)

    async def _ses(self, request: Request) -> dict[str, Any]:
        message = await self._json(request)
        if message.text("TopicArn") != self.settings.bounces.ses_topic_arn:
            raise Refused(403, "unknown SNS topic")
        now = datetime.fromtimestamp(self.clock(), UTC)
        await run_in_threadpool(self.sns.verify, message, now)
        if message.text("Type") == "SubscriptionConfirmation":
            await run_in_threadpool(self.sns.fetch, message.text("SubscribeURL"))
            log.info("confirmed the SNS subscription to %s", message.text("TopicArn"))
            return {"confirmed": True}
        notification = Payload(json_object(message.text("Message")), "the SNS message")
        return await self._record(ses_events(notification, message.text("MessageId")), "ses")

    # -- Postmark --------------------------------------------------------------------

    async def postmark(self, request: Request) -> Response:
        if not self.settings.bounces.postmark_user:
            return _answer(404, ok=False, reason="not configured")
        return await self._handle(request, self._postmark)

    async def _postmark(self, request: Request) -> dict[str, Any]:
        self._basic_auth(request)
        record = await self._json(request)
        events = postmark_events(record)
        if not events:
            return {"results": ["ignored"]}
        return await self._record(events, "postmark")

    def _basic_auth(self, request: Request) -> None:
        expected_user = self.settings.bounces.postmark_user
        password = self.settings.postmark_password
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        try:
            user, _, given = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, ValueError, UnicodeDecodeError):
            user, given = "", ""
        good = (
            scheme.lower() == "basic"
            and password is not None
            and secrets.compare_digest(user.encode(), expected_user.encode())
            and secrets.compare_digest(given.encode(), password.reveal().encode())
        )
        if not good:
            raise Refused(401, "wrong or missing credentials")

    # -- Mailgun ---------------------------------------------------------------------

    async def mailgun(self, request: Request) -> Response:
        if self.settings.mailgun_signing_key is None:
            return _answer(404, ok=False, reason="not configured")
        return await self._handle(request, self._mailgun)

    async def _mailgun(self, request: Request) -> dict[str, Any]:
        body = await self._json(request)
        signature = body.object("signature")
        timestamp, token = signature.text("timestamp"), signature.text("token")
        assert self.settings.mailgun_signing_key is not None
        expected = hmac.new(
            self.settings.mailgun_signing_key.reveal().encode(),
            (timestamp + token).encode(),
            hashlib.sha256,
        ).hexdigest()
        if not hmac.compare_digest(expected, signature.text("signature")):
            raise Refused(403, "the signature does not verify")
        now = self.clock()
        if not _SECONDS.fullmatch(timestamp) or abs(now - int(timestamp)) > MAILGUN_MAX_AGE_SECONDS:
            raise Refused(403, "the request is too old (a replay?)")
        if not self.mailgun_tokens.first_time(token, now):
            raise Refused(403, "this request was seen before (a replay)")
        return await self._record(mailgun_events(body.object("event-data"), token), "mailgun")

    # -- SendGrid --------------------------------------------------------------------

    async def sendgrid(self, request: Request) -> Response:
        if self.settings.sendgrid_verification_key is None:
            return _answer(404, ok=False, reason="not configured")
        return await self._handle(request, self._sendgrid)

    async def _sendgrid(self, request: Request) -> dict[str, Any]:
        body = await request.body()  # the exact bytes: the signature covers them
        timestamp = request.headers.get(SENDGRID_TIMESTAMP, "")
        assert self.settings.sendgrid_verification_key is not None
        _verify_sendgrid(
            self.settings.sendgrid_verification_key.reveal(),
            request.headers.get(SENDGRID_SIGNATURE, ""),
            timestamp,
            body,
        )
        if not _SECONDS.fullmatch(timestamp) or abs(self.clock() - int(timestamp)) > (
            SENDGRID_MAX_AGE_SECONDS
        ):
            raise Refused(403, "the request is too old (a replay?)")
        try:
            items = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            items = None
        if not isinstance(items, list):
            raise Refused(400, "the body is not a JSON list of events")
        events = sendgrid_events([Payload(item, f"the body[{n}]") for n, item in enumerate(items)])
        if not events:
            return {"results": ["ignored"] * len(items)}
        return await self._record(events, "sendgrid")


def _verify_sendgrid(key_text: str, signature_text: str, timestamp: str, body: bytes) -> None:
    """ECDSA (P-256, SHA-256) over the timestamp header followed by the body."""
    try:
        key = load_der_public_key(base64.b64decode(key_text.strip(), validate=True))
    except (binascii.Error, ValueError):
        raise Refused(403, "the SendGrid verification key cannot be read") from None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise Refused(403, "the SendGrid verification key is no ECDSA key")
    try:
        signature = base64.b64decode(signature_text, validate=True)
        key.verify(signature, timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    except (binascii.Error, ValueError, InvalidSignature):
        raise Refused(403, "the signature does not verify") from None
