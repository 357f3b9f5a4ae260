"""The owner's area at ``/beheer``: login by mail, the overview, an edition's page, actions.

- ``access``: the session cookie, the CSRF token, and the guard every page passes;
- ``login``: the mailed one-time link, logging in and out;
- ``figures`` and ``outlook``: what the pages show, read from the database;
- ``charts``: the SVG geometry the templates draw;
- ``pages`` and ``actions``: the endpoints.

Templates are in ``templates/web/owner/``; everything the owner reads is Dutch.
"""

from __future__ import annotations

from starlette.routing import Route

from newsletter.delivery.single import SingleMessageSender
from newsletter.web.context import WebContext
from newsletter.web.owner.access import OwnerAccess
from newsletter.web.owner.actions import OwnerActions
from newsletter.web.owner.login import OwnerLogin
from newsletter.web.owner.pages import OwnerPages


def owner_routes(context: WebContext, sender: SingleMessageSender) -> list[Route]:
    """Every route of the area; the login link is mailed with ``sender``."""
    access = OwnerAccess(context)
    return OwnerPages(access, OwnerLogin(access, sender), OwnerActions(access)).routes()
