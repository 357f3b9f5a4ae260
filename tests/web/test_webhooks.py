"""Relay webhooks against the real ASGI app (httpx): SES through SNS with a signing
certificate made with trustme and served over https by a local server (which the
allow-list admits in this test only), Postmark with basic auth, Mailgun with HMAC.
Verified events act like returned mail; forged, tampered and replayed requests are
refused and change nothing."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import logging
import re
import ssl
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import trustme
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from sqlalchemy import func, select

from newsletter.config import BouncesSection, Secret, Settings
from newsletter.db.database import Database
from newsletter.db.models import Event
from newsletter.web.app import create_app
from newsletter.web.webhooks import SnsVerifier
from tests.support.db import add_subscribers
from tests.support.returned import bounce_settings, delivery_of, send_next, status_of
from tests.support.smtp import SmtpServer
from tests.support.web import uvicorn_serving

TOPIC = "arn:aws:sns:eu-west-1:123456789012:nieuwsbrief-bounces"
POSTMARK_USER = "postmark"
POSTMARK_PASSWORD = "postmark-wachtwoord"
MAILGUN_KEY = "key-mailgun-test"
SENDGRID_KEY = ec.generate_private_key(ec.SECP256R1())
SENDGRID_PUBLIC = base64.b64encode(
    SENDGRID_KEY.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
).decode()


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        server: Any = self.server
        server.hits.append(self.path)
        if self.path == "/SimpleNotificationService-test.pem":
            body = server.certificate
        else:
            body = b"<ConfirmSubscriptionResponse/>"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@dataclass
class Sns:
    """A stand-in for SNS's certificate host, and the key SNS signs with."""

    base: str
    key: rsa.RSAPrivateKey
    hits: list[str]
    verifier: SnsVerifier

    def sign(self, message: dict[str, Any], version: str = "1") -> dict[str, Any]:
        fields = ["Message", "MessageId", "Subject", "SubscribeURL", "Timestamp", "Token"]
        fields += ["TopicArn", "Type"]
        text = "".join(f"{name}\n{message[name]}\n" for name in fields if name in message)
        digest = hashes.SHA1() if version == "1" else hashes.SHA256()
        signature = self.key.sign(text.encode(), padding.PKCS1v15(), digest)
        return {
            **message,
            "SignatureVersion": version,
            "Signature": base64.b64encode(signature).decode(),
            "SigningCertURL": f"{self.base}/SimpleNotificationService-test.pem",
        }


@pytest.fixture(scope="module")
def sns() -> Iterator[Sns]:
    ca = trustme.CA(key_type=trustme.KeyType.RSA)
    server_cert = ca.issue_cert("127.0.0.1")
    signing = ca.issue_cert("sns.eu-west-1.amazonaws.com", key_type=trustme.KeyType.RSA)
    key = serialization.load_pem_private_key(signing.private_key_pem.bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    server: Any = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.hits = []
    server.certificate = signing.cert_chain_pems[0].bytes()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_cert.configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    client_tls = ssl.create_default_context()
    ca.configure_trust(client_tls)
    verifier = SnsVerifier(host_pattern=re.compile(rf"127\.0\.0\.1:{port}"), tls=client_tls)
    yield Sns(f"https://127.0.0.1:{port}", key, server.hits, verifier)
    server.shutdown()
    server.server_close()


@dataclass
class World:
    database: Database
    settings: Settings
    edition_id: int
    http: httpx.AsyncClient

    def message_id(self, reader: str) -> str:
        message_id = delivery_of(self.database, self.edition_id, reader).message_id
        assert message_id is not None
        return message_id

    def events(self) -> int:
        with self.database.session() as session:
            return int(session.scalar(select(func.count()).select_from(Event)) or 0)


@pytest.fixture
def sent(database: Database, database_url: str, smtp_server: SmtpServer) -> tuple[Settings, int]:
    """An edition sent to the readers (synchronously: the engine runs its own loop)."""
    settings = bounce_settings(
        database_url,
        smtp_server.port,
        postmark_password=Secret(POSTMARK_PASSWORD),
        mailgun_signing_key=Secret(MAILGUN_KEY),
        sendgrid_verification_key=Secret(SENDGRID_PUBLIC),
    )
    settings = dataclasses.replace(
        settings,
        bounces=dataclasses.replace(
            settings.bounces, ses_topic_arn=TOPIC, postmark_user=POSTMARK_USER
        ),
    )
    add_subscribers(database, 3)
    edition_id = send_next(database, settings, "rust-vinden")
    return settings, edition_id


@pytest.fixture
async def world(database: Database, sent: tuple[Settings, int], sns: Sns) -> AsyncIterator[World]:
    """The app under a real uvicorn, as relays reach it."""
    settings, edition_id = sent
    app = create_app(settings, database, sns=sns.verifier)
    with uvicorn_serving(app) as port:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            yield World(database, settings, edition_id, http)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _ses_bounce(world: World, reader: str, *, when: str | None = None) -> dict[str, Any]:
    notification = {
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": "Permanent",
            "bounceSubType": "General",
            "bouncedRecipients": [
                {
                    "emailAddress": reader,
                    "status": "5.1.1",
                    "diagnosticCode": "smtp; 550 5.1.1 user unknown",
                }
            ],
            "timestamp": _now(),
        },
        "mail": {
            "messageId": "0102018c-ses-id",
            "commonHeaders": {"messageId": world.message_id(reader)},
        },
    }
    return {
        "Type": "Notification",
        "MessageId": f"sns-{reader}-{when or 'now'}",
        "TopicArn": TOPIC,
        "Message": json.dumps(notification),
        "Timestamp": when or _now(),
    }


async def test_ses_subscription_is_confirmed(world: World, sns: Sns) -> None:
    confirmation = sns.sign(
        {
            "Type": "SubscriptionConfirmation",
            "MessageId": "sub-1",
            "Token": "2336412f37fb687f5d51e6e2425ba1f",
            "TopicArn": TOPIC,
            "Message": "You have chosen to subscribe to the topic.",
            "SubscribeURL": f"{sns.base}/?Action=ConfirmSubscription&Token=2336412f",
            "Timestamp": _now(),
        }
    )
    answer = await world.http.post("/webhooks/ses", json=confirmation)
    assert answer.status_code == 200, answer.text
    assert "/?Action=ConfirmSubscription&Token=2336412f" in sns.hits


@pytest.mark.parametrize("version", ["1", "2"])
async def test_a_signed_ses_bounce_marks_the_reader_once(
    world: World, sns: Sns, version: str
) -> None:
    signed = sns.sign(_ses_bounce(world, "lezer1@voorbeeld.nl"), version)
    answer = await world.http.post("/webhooks/ses", json=signed)
    assert answer.status_code == 200, answer.text
    assert answer.json()["results"] == ["hard"]
    assert status_of(world.database, "lezer1@voorbeeld.nl") == "bounced"
    events = world.events()
    again = await world.http.post("/webhooks/ses", json=signed)  # SNS retries
    assert again.status_code == 200
    assert world.events() == events


async def test_forged_tampered_and_replayed_ses_requests_change_nothing(
    world: World, sns: Sns
) -> None:
    events = world.events()
    genuine = sns.sign(_ses_bounce(world, "lezer1@voorbeeld.nl"))
    tampered = {**genuine, "Message": genuine["Message"].replace("lezer1", "lezer2")}
    old = (datetime.now(UTC) - timedelta(hours=2)).isoformat().replace("+00:00", "Z")
    replayed = sns.sign(_ses_bounce(world, "lezer1@voorbeeld.nl", when=old))
    elsewhere = {**genuine, "SigningCertURL": "https://sns.evil.example/cert.pem"}
    other_topic = sns.sign({**_ses_bounce(world, "lezer1@voorbeeld.nl"), "TopicArn": TOPIC + "x"})
    for request in (tampered, replayed, elsewhere, other_topic, {**genuine, "Signature": "AAAA"}):
        answer = await world.http.post("/webhooks/ses", json=request)
        assert answer.status_code == 403, answer.text
    assert status_of(world.database, "lezer1@voorbeeld.nl") == "active"
    assert status_of(world.database, "lezer2@voorbeeld.nl") == "active"
    assert world.events() == events


async def test_postmark_with_basic_auth(world: World) -> None:
    complaint = {
        "RecordType": "SpamComplaint",
        "ID": 42,
        "Type": "SpamComplaint",
        "TypeCode": 512,
        "Email": "lezer2@voorbeeld.nl",
        "Description": "The subscriber explicitly marked this message as spam.",
    }
    for auth in (None, (POSTMARK_USER, "fout"), ("iemand", POSTMARK_PASSWORD)):
        answer = await world.http.post("/webhooks/postmark", json=complaint, auth=auth)
        assert answer.status_code == 401
    assert status_of(world.database, "lezer2@voorbeeld.nl") == "active"
    answer = await world.http.post(
        "/webhooks/postmark", json=complaint, auth=(POSTMARK_USER, POSTMARK_PASSWORD)
    )
    assert answer.status_code == 200, answer.text
    assert status_of(world.database, "lezer2@voorbeeld.nl") == "complained"


def _mailgun(
    world: World, reader: str, *, timestamp: int | None = None, token: str = "t1"
) -> dict[str, Any]:
    stamp = str(timestamp or int(time.time()))
    signature = hmac.new(MAILGUN_KEY.encode(), (stamp + token).encode(), hashlib.sha256)
    return {
        "signature": {"timestamp": stamp, "token": token, "signature": signature.hexdigest()},
        "event-data": {
            "id": f"mg-{token}",
            "event": "failed",
            "severity": "permanent",
            "reason": "bounce",
            "recipient": reader,
            "delivery-status": {"code": 550, "description": "5.1.1 mailbox unavailable"},
            "message": {"headers": {"message-id": world.message_id(reader).strip("<>")}},
        },
    }


async def test_mailgun_with_hmac(world: World) -> None:
    forged = _mailgun(world, "lezer0@voorbeeld.nl", token="t-forged")
    forged["signature"]["signature"] = "0" * 64
    old = _mailgun(world, "lezer0@voorbeeld.nl", timestamp=int(time.time()) - 3600, token="t-old")
    for request in (forged, old):
        answer = await world.http.post("/webhooks/mailgun", json=request)
        assert answer.status_code == 403
    assert status_of(world.database, "lezer0@voorbeeld.nl") == "active"

    genuine = _mailgun(world, "lezer0@voorbeeld.nl", token="t-genuine")
    answer = await world.http.post("/webhooks/mailgun", json=genuine)
    assert answer.status_code == 200, answer.text
    assert status_of(world.database, "lezer0@voorbeeld.nl") == "bounced"
    replay = await world.http.post("/webhooks/mailgun", json=genuine)
    assert replay.status_code == 403


def _sendgrid(events: list[dict[str, Any]], *, timestamp: int | None = None) -> dict[str, Any]:
    """A signed SendGrid Event Webhook request: its body and headers."""
    body = json.dumps(events).encode()
    stamp = str(timestamp or int(time.time()))
    signature = SENDGRID_KEY.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    headers = {
        "Content-Type": "application/json",
        "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
        "X-Twilio-Email-Event-Webhook-Timestamp": stamp,
    }
    return {"content": body, "headers": headers}


async def test_sendgrid_with_its_signed_event_webhook(world: World) -> None:
    reader, blocked, unsubscribed = READERS[0], READERS[1], READERS[2]
    events = [
        {"email": reader, "event": "bounce", "type": "bounce", "sg_event_id": "sg-1",
         "smtp-id": world.message_id(reader), "status": "5.1.1",
         "reason": "550 5.1.1 <x@voorbeeld.nl>: Recipient address rejected: User unknown"},
        {"email": blocked, "event": "bounce", "type": "blocked", "sg_event_id": "sg-2",
         "status": "5.7.26", "reason": "550 5.7.26 Unauthenticated email is not accepted"},
        {"email": unsubscribed, "event": "group_unsubscribe", "sg_event_id": "sg-3"},
        {"email": blocked, "event": "delivered", "sg_event_id": "sg-4"},
    ]  # fmt: skip
    genuine = _sendgrid(events)
    tampered = dict(genuine, content=genuine["content"].replace(b"5.1.1", b"5.2.2"))
    old = _sendgrid(events, timestamp=int(time.time()) - 3600)
    unsigned = dict(genuine, headers={"Content-Type": "application/json"})
    for request in (tampered, old, unsigned):
        assert (await world.http.post("/webhooks/sendgrid", **request)).status_code == 403
    assert {status_of(world.database, r) for r in READERS} == {"active"}

    answer = await world.http.post("/webhooks/sendgrid", **genuine)
    assert answer.status_code == 200, answer.text
    assert answer.json()["results"] == ["hard", "sender", "unsubscribe"]
    assert [status_of(world.database, r) for r in READERS] == ["bounced", "active", "unsubscribed"]
    events_before = world.events()
    again = await world.http.post("/webhooks/sendgrid", **_sendgrid(events))  # a relay's retry
    assert again.status_code == 200 and world.events() == events_before


async def test_webhooks_that_are_not_configured_do_not_exist(world: World) -> None:
    settings = dataclasses.replace(
        world.settings,
        bounces=BouncesSection(),
        postmark_password=None,
        mailgun_signing_key=None,
        sendgrid_verification_key=None,
    )
    transport = httpx.ASGITransport(app=create_app(settings, world.database))
    async with httpx.AsyncClient(
        transport=transport, base_url=settings.newsletter.base_url
    ) as http:
        for path in (
            "/webhooks/ses",
            "/webhooks/postmark",
            "/webhooks/mailgun",
            "/webhooks/sendgrid",
        ):
            assert (await http.post(path, json={})).status_code == 404


async def test_a_real_sized_ses_notification_passes_and_the_forms_keep_their_limit(
    world: World, sns: Sns
) -> None:
    """SES sends the original message's headers along (``mail.headers``): tens of KB, over
    the 16 KB of the public forms; the webhooks take up to 1 MiB, and no more."""
    bounce = _ses_bounce(world, "lezer2@voorbeeld.nl")
    notification = json.loads(bounce["Message"])
    notification["mail"]["headersTruncated"] = False
    notification["mail"]["headers"] = [
        {
            "name": "Received",
            "value": f"from relay{n}.voorbeeld.nl by mx.voorbeeld.nl; " + "x" * 200,
        }
        for n in range(120)
    ]
    signed = sns.sign({**bounce, "Message": json.dumps(notification)})
    body = json.dumps(signed).encode()
    assert 16 * 1024 < len(body) < 1024 * 1024
    answer = await world.http.post(
        "/webhooks/ses", content=body, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["results"] == ["hard"]
    assert status_of(world.database, "lezer2@voorbeeld.nl") == "bounced"

    events = world.events()
    huge = {**signed, "Padding": "x" * (1024 * 1024)}
    too_large = await world.http.post("/webhooks/ses", json=huge)
    assert too_large.status_code == 413
    form = await world.http.post(
        "/subscribe",
        content=b"email=a%40example.org&name=" + b"x" * (len(body) - 20),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert form.status_code == 413
    assert world.events() == events


# Issue 20, defect 5: no payload gets a 500. A body that is not a JSON object, or a signed
# payload with a field of another type than the relay documents, is a 4xx with one log
# line, and changes no reader.

READERS = [f"lezer{n}@voorbeeld.nl" for n in range(3)]
TEXT_ODD: list[object] = [7, [1], {"x": 1}]
OBJECT_ODD: list[object] = ["str", [1], 7]
LIST_ODD: list[object] = ["str", {"x": 1}, 7]
CODE_ODD: list[object] = [[1], {"x": 1}, True]


def _with(document: Any, path: tuple[str | int, ...], value: object) -> Any:
    """A deep copy of ``document`` with the value at ``path`` replaced."""
    copy = json.loads(json.dumps(document))
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return copy


def _ses_complaint(world: World, reader: str) -> dict[str, Any]:
    request = _ses_bounce(world, reader)
    notification = json.loads(request["Message"])
    del notification["bounce"]
    notification["notificationType"] = "Complaint"
    notification["complaint"] = {
        "complaintFeedbackType": "abuse",
        "complainedRecipients": [{"emailAddress": reader}],
    }
    return {**request, "Message": json.dumps(notification)}


def _ses_with(request: dict[str, Any], path: tuple[str | int, ...], value: object) -> Any:
    """An SES request whose notification (inside ``Message``) has ``value`` at ``path``."""
    notification = _with(json.loads(request["Message"]), path, value)
    return {**request, "Message": json.dumps(notification)}


async def _refused_quietly(
    world: World, caplog: pytest.LogCaptureFixture, path: str, **request: Any
) -> None:
    """The request gets a 4xx and one warning, and no reader or event changes."""
    events = world.events()
    caplog.clear()
    answer = await world.http.post(path, **request)
    assert 400 <= answer.status_code < 500, answer.text[:300]
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.name for r in warnings] == ["newsletter.web.webhooks"], warnings
    assert not warnings[0].exc_info
    assert [status_of(world.database, reader) for reader in READERS] == ["active"] * 3
    assert world.events() == events


async def test_a_json_bomb_is_a_400_not_a_500(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    bomb = {"content": "[" * 100_000, "headers": {"Content-Type": "application/json"}}
    await _refused_quietly(world, caplog, "/webhooks/ses", **bomb)
    await _refused_quietly(world, caplog, "/webhooks/mailgun", **bomb)
    await _refused_quietly(
        world, caplog, "/webhooks/postmark", auth=(POSTMARK_USER, POSTMARK_PASSWORD), **bomb
    )


async def test_the_odd_signed_payloads_of_the_report(
    world: World, sns: Sns, caplog: pytest.LogCaptureFixture
) -> None:
    reader = READERS[0]
    mailgun = _mailgun(world, reader, token="t-message-str")
    await _refused_quietly(
        world, caplog, "/webhooks/mailgun", json=_with(mailgun, ("event-data", "message"), "str")
    )
    mailgun = _mailgun(world, reader, token="t-status-list")
    await _refused_quietly(
        world,
        caplog,
        "/webhooks/mailgun",
        json=_with(mailgun, ("event-data", "delivery-status"), [1]),
    )
    ses = {**_ses_bounce(world, reader), "Message": "[1]"}
    await _refused_quietly(world, caplog, "/webhooks/ses", json=sns.sign(ses))
    no_zone = datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="milliseconds")
    ses = _ses_bounce(world, reader, when=no_zone)
    await _refused_quietly(world, caplog, "/webhooks/ses", json=sns.sign(ses))
    # Each of these, well formed, does change the reader: the refusals above were about shape.
    answer = await world.http.post("/webhooks/ses", json=sns.sign(_ses_bounce(world, reader)))
    assert answer.json()["results"] == ["hard"]


SES_SHAPES: list[tuple[str, tuple[str | int, ...], list[object]]] = [
    ("bounce", ("notificationType",), TEXT_ODD),
    ("bounce", ("mail",), OBJECT_ODD),
    ("bounce", ("mail", "commonHeaders"), OBJECT_ODD),
    ("bounce", ("mail", "commonHeaders", "messageId"), TEXT_ODD),
    ("bounce", ("bounce",), OBJECT_ODD),
    ("bounce", ("bounce", "bounceType"), TEXT_ODD),
    ("bounce", ("bounce", "bounceSubType"), TEXT_ODD),
    ("bounce", ("bounce", "bouncedRecipients"), LIST_ODD),
    ("bounce", ("bounce", "bouncedRecipients", 0), OBJECT_ODD),
    ("bounce", ("bounce", "bouncedRecipients", 0, "emailAddress"), TEXT_ODD),
    ("bounce", ("bounce", "bouncedRecipients", 0, "status"), TEXT_ODD),
    ("bounce", ("bounce", "bouncedRecipients", 0, "diagnosticCode"), TEXT_ODD),
    ("complaint", ("complaint",), OBJECT_ODD),
    ("complaint", ("complaint", "complaintFeedbackType"), TEXT_ODD),
    ("complaint", ("complaint", "complainedRecipients"), LIST_ODD),
    ("complaint", ("complaint", "complainedRecipients", 0), OBJECT_ODD),
    ("complaint", ("complaint", "complainedRecipients", 0, "emailAddress"), TEXT_ODD),
]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # shapes, not storage
@pytest.mark.parametrize(("kind", "path", "values"), SES_SHAPES)
async def test_odd_shapes_in_a_signed_ses_notification_are_refused(
    world: World,
    sns: Sns,
    caplog: pytest.LogCaptureFixture,
    kind: str,
    path: tuple[str | int, ...],
    values: list[object],
) -> None:
    build = _ses_bounce if kind == "bounce" else _ses_complaint
    for value in values:
        request = _ses_with(build(world, READERS[1]), path, value)
        await _refused_quietly(world, caplog, "/webhooks/ses", json=sns.sign(request))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("field", ["Message", "MessageId", "Timestamp", "Type", "Signature"])
async def test_odd_shapes_in_an_sns_message_are_refused(
    world: World, sns: Sns, caplog: pytest.LogCaptureFixture, field: str
) -> None:
    for value in TEXT_ODD:
        signed = sns.sign(_ses_bounce(world, READERS[1]))
        await _refused_quietly(world, caplog, "/webhooks/ses", json={**signed, field: value})
        if field != "Signature":  # signed as its text, as a forger with the key could
            request = sns.sign({**_ses_bounce(world, READERS[1]), field: value})
            await _refused_quietly(world, caplog, "/webhooks/ses", json=request)


MAILGUN_SHAPES: list[tuple[tuple[str, ...], list[object]]] = [
    (("signature",), OBJECT_ODD),
    (("signature", "timestamp"), TEXT_ODD),
    (("signature", "token"), TEXT_ODD),
    (("signature", "signature"), TEXT_ODD),
    (("event-data",), OBJECT_ODD),
    (("event-data", "id"), TEXT_ODD),
    (("event-data", "event"), TEXT_ODD),
    (("event-data", "severity"), TEXT_ODD),
    (("event-data", "reason"), TEXT_ODD),
    (("event-data", "recipient"), TEXT_ODD),
    (("event-data", "delivery-status"), OBJECT_ODD),
    (("event-data", "delivery-status", "code"), CODE_ODD),
    (("event-data", "delivery-status", "description"), TEXT_ODD),
    (("event-data", "delivery-status", "message"), TEXT_ODD),
    (("event-data", "message"), OBJECT_ODD),
    (("event-data", "message", "headers"), OBJECT_ODD),
    (("event-data", "message", "headers", "message-id"), TEXT_ODD),
]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("path", "values"), MAILGUN_SHAPES)
async def test_odd_shapes_in_a_signed_mailgun_event_are_refused(
    world: World,
    caplog: pytest.LogCaptureFixture,
    path: tuple[str, ...],
    values: list[object],
) -> None:
    for number, value in enumerate(values):
        request = _mailgun(world, READERS[2], token=f"t-{'-'.join(path)}-{number}")
        await _refused_quietly(world, caplog, "/webhooks/mailgun", json=_with(request, path, value))


POSTMARK_SHAPES: list[tuple[str, list[object]]] = [
    ("RecordType", TEXT_ODD),
    ("Type", TEXT_ODD),
    ("ID", CODE_ODD),
    ("Email", TEXT_ODD),
    ("Description", TEXT_ODD),
]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("field", "values"), POSTMARK_SHAPES)
async def test_odd_shapes_in_a_postmark_record_are_refused(
    world: World, caplog: pytest.LogCaptureFixture, field: str, values: list[object]
) -> None:
    record = {
        "RecordType": "Bounce",
        "ID": 43,
        "Type": "HardBounce",
        "TypeCode": 1,
        "Email": READERS[0],
        "Description": "The server was unable to deliver your message.",
    }
    for value in values:
        await _refused_quietly(
            world,
            caplog,
            "/webhooks/postmark",
            json={**record, field: value},
            auth=(POSTMARK_USER, POSTMARK_PASSWORD),
        )


async def test_signed_oddities_before_the_payload_are_refused(
    world: World, sns: Sns, caplog: pytest.LogCaptureFixture
) -> None:
    """A Mailgun timestamp that ``str.isdigit`` takes but ``int`` refuses, or longer than
    ``int`` reads; an SNS confirmation whose URL cannot be parsed."""
    for stamp in ("²", "9" * 5000):
        request = _mailgun(world, READERS[2], token=f"t-stamp-{len(stamp)}")
        mac = hmac.new(
            MAILGUN_KEY.encode(), (stamp + request["signature"]["token"]).encode(), "sha256"
        )
        request["signature"].update(timestamp=stamp, signature=mac.hexdigest())
        await _refused_quietly(world, caplog, "/webhooks/mailgun", json=request)
    confirmation = {
        "Type": "SubscriptionConfirmation",
        "MessageId": "sub-broken",
        "Token": "2336412f37fb687f5d51e6e2425ba1f",
        "TopicArn": TOPIC,
        "Message": "You have chosen to subscribe to the topic.",
        "SubscribeURL": "https://[sns.eu-west-1.amazonaws.com/",
        "Timestamp": _now(),
    }
    await _refused_quietly(world, caplog, "/webhooks/ses", json=sns.sign(confirmation))
