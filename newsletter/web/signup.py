"""Joining the list: the sign-up form (HTML or JSON) and the double opt-in confirmation.

The answer to a sign-up never tells whether the address is new, pending, active or opted
out: the same page (or JSON) comes back for all of them, and the confirmation mail goes out
after the response, so not even its timing shows. Only the confirm link, which proves that
the person reads that mailbox, changes anyone's status.

Abuse guards: a per-IP sliding window (a 429 page), a per-address cap on confirmation mails
(so nobody can mail-bomb someone through the form), and a honeypot field that bots fill in
and people never see (filled in: pretend success, do nothing).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from newsletter.db import subscriptions
from newsletter.db.consent import ConfirmingRequest
from newsletter.db.models import ConsentSource, utcnow
from newsletter.db.subscribers import clean_name, normalise_address
from newsletter.db.subscriptions import Newcomer, SignupRequest
from newsletter.delivery.single import SingleMessageSender
from newsletter.delivery.slots import next_slot
from newsletter.errors import InputError
from newsletter.mail.confirmation import CONFIRM_MAX_AGE_DAYS, build_confirmation_message
from newsletter.mail.welcome import build_welcome_message
from newsletter.web.archive import published_editions
from newsletter.web.context import (
    CORS,
    JSON_MESSAGES,
    PRIVATE,
    WebContext,
    json_object,
    json_refusal,
    route,
    wants_json,
)
from newsletter.web.mailing import send_after_answer
from newsletter.web.ratelimit import SlidingWindowLimiter

logger = logging.getLogger("newsletter.web")

CONFIRM_MAX_AGE = CONFIRM_MAX_AGE_DAYS * 24 * 60 * 60
HONEYPOT_FIELD = "website"
SIGNUPS_PER_IP_PER_MINUTE = 5
CONFIRMATIONS_PER_ADDRESS_PER_HOUR = 3


@dataclass(frozen=True)
class _SignupForm:
    email: str
    name: str
    honeypot: str


class SignupPages:
    def __init__(
        self,
        context: WebContext,
        sender: SingleMessageSender,
        *,
        per_ip: SlidingWindowLimiter | None = None,
        per_address: SlidingWindowLimiter | None = None,
    ) -> None:
        self.context = context
        self.sender = sender
        self.per_ip = per_ip or SlidingWindowLimiter(SIGNUPS_PER_IP_PER_MINUTE, 60)
        self.per_address = per_address or SlidingWindowLimiter(
            CONFIRMATIONS_PER_ADDRESS_PER_HOUR, 3600
        )
        # The version of the sign-up text a form sign-up saw, for its proof of consent.
        self.form_hash = context.pages.text_hash("subscribe.html", error=None, email="", name="")

    def routes(self) -> list[Route]:
        return [
            route("/subscribe", get=self.form, post=self.subscribe, options=self.preflight),
            route("/confirm/{token:path}", get=self.show_confirm, post=self.confirm),
        ]

    async def form(self, request: Request) -> Response:
        return self.context.pages.render("subscribe.html", error=None, email="", name="")

    async def preflight(self, request: Request) -> Response:
        """CORS preflight for the blog's script posting JSON from its own origin."""
        return Response(
            status_code=204,
            headers={
                **CORS,
                "Access-Control-Allow-Methods": "POST",
                "Access-Control-Allow-Headers": "Content-Type",
                "Access-Control-Max-Age": "86400",
            },
        )

    async def subscribe(self, request: Request) -> Response:
        is_json = request.headers.get("content-type", "").startswith("application/json")
        answer_json = wants_json(request)
        client = request.client.host if request.client else "unknown"
        if not self.per_ip.allow(client):
            return self._refuse("rate_limited", 429, answer_json, headers={"Retry-After": "60"})
        submitted = await (_read_json(request) if is_json else _read_form(request))
        if submitted is None:
            return self._refuse("bad_request", 400, answer_json)
        if submitted.honeypot:
            return self._accepted(answer_json, background=None)
        try:
            address = normalise_address(submitted.email)
        except InputError:
            return self._refuse("invalid_email", 400, answer_json, submitted)
        try:
            name = clean_name(submitted.name)
        except InputError:
            return self._refuse("invalid_name", 400, answer_json, submitted)

        # The blog's box posts JSON: its text is the blog's, not ours to hash.
        source = ConsentSource.API if is_json else ConsentSource.FORM
        form_hash = None if is_json else self.form_hash

        def record(session: Session) -> SignupRequest:
            return subscriptions.request_signup(
                session, address, name, source=source, form_hash=form_hash
            )

        try:
            signup = await self.context.run(record)
        except IntegrityError:
            # Two sign-ups for one new address at the same moment: the other one created it.
            signup = await self.context.run(record)
        if not (signup.send_confirmation and self.per_address.allow(address)):
            return self._accepted(answer_json, background=None)
        return self._accepted(answer_json, BackgroundTask(self._send_confirmation, signup))

    async def show_confirm(self, request: Request) -> Response:
        """The page behind the mailed link: one button. A GET never confirms (scanners)."""
        token = request.path_params["token"]
        subscriber_id, made = self.context.stamped_subscriber_id(
            "confirm", token, max_age=CONFIRM_MAX_AGE
        )
        found = await self.context.run(
            lambda session: subscriptions.confirm_page(session, subscriber_id, made)
        )
        return self._confirmation_page(found, token)

    async def confirm(self, request: Request) -> Response:
        token = request.path_params["token"]
        subscriber_id, made = self.context.stamped_subscriber_id(
            "confirm", token, max_age=CONFIRM_MAX_AGE
        )
        confirming = self._confirming_request(request)
        confirmation = await self.context.run(
            lambda session: subscriptions.confirm(session, subscriber_id, made, confirming)
        )
        welcome = None
        if (
            confirmation is not None
            and confirmation.newcomer is not None
            and self.context.settings.newsletter.welcome
        ):
            welcome = BackgroundTask(self._send_welcome, confirmation.newcomer)
        return self._confirmation_page(confirmation, token, welcome)

    def _confirming_request(self, request: Request) -> ConfirmingRequest:
        """The visitor's address (through the trusted proxies, as uvicorn resolves it) and
        browser, unless ``web.record_consent_ip`` is off."""
        if not self.context.settings.web.record_consent_ip:
            return ConfirmingRequest(None, None)
        return ConfirmingRequest(
            request.client.host if request.client else None, request.headers.get("user-agent")
        )

    def _confirmation_page(
        self,
        confirmation: subscriptions.Confirmation | None,
        token: str,
        welcome: BackgroundTask | None = None,
    ) -> Response:
        """The button, "welkom", "al bevestigd", or why the link no longer works."""
        pages = self.context.pages
        if confirmation is None:
            return pages.error("invalid_link", 400, headers=PRIVATE)
        if confirmation.outcome == "spent":
            return pages.error("spent_link", 400, headers=PRIVATE)
        if confirmation.outcome == "to confirm":
            return pages.render(
                "confirm.html", headers=PRIVATE, subscriber=confirmation.view, token=token
            )
        return pages.render(
            "confirmed.html",
            headers=PRIVATE,
            subscriber=confirmation.view,
            already=confirmation.outcome == "already confirmed",
            background=welcome,
        )

    async def _send_confirmation(self, signup: SignupRequest) -> None:
        """Runs after the response went out; a failure is logged, the person can try again."""
        token = self.context.token("confirm", signup.subscriber_id)
        await send_after_answer(
            self.sender,
            "confirmation",
            signup.subscriber_id,
            signup.address,
            lambda: build_confirmation_message(
                self.context.settings.newsletter,
                address=signup.address,
                name=signup.name,
                confirm_url=self.context.absolute_url(f"/confirm/{token}"),
                now=utcnow(),
            ),
        )

    async def _send_welcome(self, newcomer: Newcomer) -> None:
        """Runs after the "you're in" page went out; a failure is logged (the weekly
        edition still comes), never shown to the reader."""
        settings = self.context.settings
        now = utcnow()
        try:
            latest = await self.context.run(published_editions)
        except Exception:
            logger.exception(
                "could not read the archive for subscriber %d's welcome mail",
                newcomer.subscriber_id,
            )
            return
        upcoming = next_slot(settings.schedule, now)
        await send_after_answer(
            self.sender,
            "welcome",
            newcomer.subscriber_id,
            newcomer.address,
            lambda: build_welcome_message(
                settings.newsletter,
                settings.signing_key(),
                subscriber_id=newcomer.subscriber_id,
                address=newcomer.address,
                name=newcomer.name,
                latest=(latest[0].slug, latest[0].title) if latest else None,
                next_send=upcoming.astimezone(ZoneInfo(settings.schedule.timezone))
                if upcoming
                else None,
                now=now,
            ),
        )

    def _accepted(self, answer_json: bool, background: BackgroundTask | None) -> Response:
        if answer_json:
            body = {"ok": True, "code": "ok", "message": JSON_MESSAGES["ok"]}
            return JSONResponse(body, headers=CORS, background=background)
        return self.context.pages.render("check_inbox.html", background=background)

    def _refuse(
        self,
        code: str,
        status_code: int,
        answer_json: bool,
        submitted: _SignupForm | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        if answer_json:
            return json_refusal(code, status_code, headers)
        headers = {**CORS, **(headers or {})}
        if code in ("invalid_email", "invalid_name"):
            return self.context.pages.render(
                "subscribe.html",
                status_code=status_code,
                error=code,
                email=submitted.email if submitted else "",
                name=submitted.name if submitted else "",
            )
        return self.context.pages.error(code, status_code, headers=headers)


async def _read_form(request: Request) -> _SignupForm | None:
    return _signup_form(await request.form(max_files=0, max_fields=10))


async def _read_json(request: Request) -> _SignupForm | None:
    document = json_object(await request.body())
    return None if document is None else _signup_form(document)


def _signup_form(fields: FormData | dict[str, object]) -> _SignupForm | None:
    values = {key: fields.get(key) or "" for key in ("email", "name", HONEYPOT_FIELD)}
    if not all(isinstance(value, str) for value in values.values()):
        return None
    return _SignupForm(
        email=str(values["email"]), name=str(values["name"]), honeypot=str(values[HONEYPOT_FIELD])
    )
