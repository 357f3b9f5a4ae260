"""The pages of the owner's area: the overview and an edition's page.

Every endpoint here is wrapped by :meth:`OwnerAccess.guard`: without a session the answer
is the login page. The figures are read in one unit of work per page and handed to the
templates with the charts' geometry; the templates hold all the Dutch.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from newsletter.db.models import utcnow
from newsletter.errors import NotFoundError
from newsletter.returns import edition_figures
from newsletter.web.context import route
from newsletter.web.owner import charts, figures, outlook
from newsletter.web.owner.access import AREA, MAX_ID, OwnerAccess, Visit
from newsletter.web.owner.actions import OwnerActions
from newsletter.web.owner.login import OwnerLogin

WEEKS = 26
EDITIONS = 12
TOP_DOMAINS = 10
# The edition page's returned mail: this many a page (the counts above cover them all).
RETURNED_PER_PAGE = 50


@dataclass(frozen=True)
class Overview:
    weeks: list[figures.ReaderWeek]
    editions: list[edition_figures.EditionFigures]
    outlook: outlook.Outlook


@dataclass(frozen=True)
class EditionPage:
    edition: edition_figures.EditionFigures
    returned: edition_figures.ReturnedPage


class OwnerPages:
    def __init__(self, access: OwnerAccess, login: OwnerLogin, actions: OwnerActions) -> None:
        self.access = access
        self.context = access.context
        self.login = login
        self.actions = actions

    def routes(self) -> list[Route]:
        guard = self.access.guard
        return [
            route(AREA, get=guard(self.overview), post=self.login.request_link),
            route(AREA + "/editie/{edition_id:int}", get=guard(self.edition)),
            *self.login.routes(),
            *self.actions.routes(),
        ]

    async def overview(self, request: Request, visit: Visit) -> Response:
        settings = self.context.settings
        zone = ZoneInfo(settings.schedule.timezone)
        now = utcnow()

        def read(session: Session) -> Overview:
            return Overview(
                figures.reader_weeks(session, now, zone, WEEKS),
                edition_figures.recent_editions(session, EDITIONS),
                outlook.outlook(session, settings, now),
            )

        found = await self.context.run(read)
        oldest_first = found.editions[::-1]
        labels = [f"#{edition.id}" for edition in oldest_first]
        weeks = [week.label[-3:] for week in found.weeks]  # "W49": the table has the year
        active_chart, change_chart = charts.readers_chart(
            weeks,
            [week.active for week in found.weeks],
            [week.joined for week in found.weeks],
            [week.unsubscribed + week.dropped for week in found.weeks],
        )
        return self.access.render(
            visit,
            "owner/overview.html",
            overview=found,
            zone=zone,
            active_chart=active_chart,
            change_chart=change_chart,
            complaint_chart=charts.rate_chart(
                labels,
                [edition.complaint_percent for edition in oldest_first],
                figures.COMPLAINT_LIMIT_PERCENT,
            ),
            hard_chart=charts.rate_chart(
                labels,
                [edition.hard_percent for edition in oldest_first],
                figures.HARD_BOUNCE_LIMIT_PERCENT,
            ),
            limits=figures,
            message=request.query_params.get("gedaan", ""),
        )

    async def edition(self, request: Request, visit: Visit) -> Response:
        edition_id = request.path_params["edition_id"]
        if edition_id > MAX_ID:  # PostgreSQL would refuse to compare it: not ours anyway
            return self.access.refuse(visit, "not_found", 404)

        number = _page_number(request.query_params.get("pagina", ""))

        def read(session: Session) -> EditionPage:
            return EditionPage(
                edition_figures.edition_figures(session, edition_id, top_domains=TOP_DOMAINS),
                edition_figures.edition_returned(session, edition_id, number, RETURNED_PER_PAGE),
            )

        try:
            page = await self.context.run(read)
        except NotFoundError:
            return self.access.refuse(visit, "not_found", 404)
        return self.access.render(
            visit,
            "owner/edition.html",
            page=page,
            zone=ZoneInfo(self.context.settings.schedule.timezone),
            limits=figures,
        )


def _page_number(asked: str) -> int:
    """``?pagina=N``: anything but a plain number from 1 is the first page (the query
    reads past the last page as the last)."""
    return int(asked) if asked.isdigit() and 0 < len(asked) <= 6 and int(asked) > 0 else 1
