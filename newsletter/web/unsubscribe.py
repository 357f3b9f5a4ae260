"""Leaving the list: the unsubscribe link, RFC 8058 one-click, and "Toch weer aanmelden".

Mail scanners and link previews open every URL in a message, so a GET only *shows* the
button; the POST behind it acts. Mail providers (Gmail, Yahoo) POST the same URL with the
body ``List-Unsubscribe=One-Click`` and expect a 2xx without any page to click through.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from newsletter.db import subscriptions
from newsletter.db.subscriptions import SubscriberView
from newsletter.web.context import PRIVATE, WebContext, route

RESUBSCRIBE_MAX_AGE = int(subscriptions.RESUBSCRIBE_WINDOW.total_seconds())
ONE_CLICK_FIELD = "List-Unsubscribe"
ONE_CLICK_VALUE = "One-Click"


class UnsubscribePages:
    def __init__(self, context: WebContext) -> None:
        self.context = context

    def routes(self) -> list[Route]:
        return [
            route("/unsubscribe/{token:path}", get=self.show, post=self.unsubscribe),
            route("/resubscribe/{token:path}", post=self.resubscribe),
        ]

    async def show(self, request: Request) -> Response:
        """The page behind the link: the masked address and one button. Changes nothing."""
        token = request.path_params["token"]
        subscriber_id = self.context.subscriber_id("unsubscribe", token)
        found = await self.context.run(lambda session: subscriptions.view(session, subscriber_id))
        if found is None or found.opted_out:
            return self._unsubscribed(subscriber_id, found)
        return self.context.pages.render(
            "unsubscribe.html", headers=PRIVATE, subscriber=found, token=token
        )

    async def unsubscribe(self, request: Request) -> Response:
        """The button's POST (source ``link``) and the mail provider's one-click POST."""
        subscriber_id = self.context.subscriber_id("unsubscribe", request.path_params["token"])
        form = await request.form(max_files=0, max_fields=10)
        one_click = form.get(ONE_CLICK_FIELD) == ONE_CLICK_VALUE
        source: subscriptions.UnsubscribeSource = "one-click" if one_click else "link"
        found = await self.context.run(
            lambda session: subscriptions.unsubscribe_by_link(session, subscriber_id, source)
        )
        if one_click:
            return PlainTextResponse("Je bent afgemeld.", headers=PRIVATE)
        return self._unsubscribed(subscriber_id, found)

    async def resubscribe(self, request: Request) -> Response:
        subscriber_id = self.context.subscriber_id(
            "resubscribe", request.path_params["token"], max_age=RESUBSCRIBE_MAX_AGE
        )
        outcome = await self.context.run(
            lambda session: subscriptions.resubscribe(session, subscriber_id)
        )
        return self.context.pages.render("resubscribed.html", headers=PRIVATE, outcome=outcome)

    def _unsubscribed(self, subscriber_id: int, found: SubscriberView | None) -> Response:
        """The "you are unsubscribed" page; only a plain unsubscribe can be undone from here."""
        can_come_back = found is not None and found.can_come_back
        return self.context.pages.render(
            "unsubscribed.html",
            headers=PRIVATE,
            subscriber=found,
            resubscribe_token=(
                self.context.token("resubscribe", subscriber_id) if can_come_back else None
            ),
        )
