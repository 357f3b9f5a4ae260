"""Every edition in headless Chromium at a desktop pane (600 px) and a phone (375 px).

Driven by Playwright for Python with Debian's /usr/bin/chromium. Every request to the
network is aborted, like a mail client with remote content off (the emails have no
images anyway). The PNGs stay in test-artifacts/screenshots/ for a human to look at.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Route

from newsletter.content.post import Post
from newsletter.mail.render import RenderedEdition, personalise, render_edition
from tests.support.posts import busy_week_post, card_posts
from tests.support.readers import recipient_of
from tests.support.settings import make_settings
from tests.support.system import save_screenshot

from .conftest import posts_under_test

POSTS = posts_under_test()


def _no_network(route: Route) -> None:
    route.abort()


@pytest.mark.parametrize("width", [600, 375])
@pytest.mark.parametrize("post", POSTS, ids=[p.slug for p in POSTS])
def test_no_horizontal_overflow(browser: Browser, post: Post, width: int) -> None:
    settings = make_settings()
    _fits(browser, render_edition(post, settings.newsletter), post.slug, width)


@pytest.mark.parametrize("width", [600, 375])
def test_a_busy_week_with_cards_fits_too(browser: Browser, width: int) -> None:
    """The article with its blog link and two cards below it (issue 23)."""
    edition = render_edition(busy_week_post(), make_settings().newsletter, card_posts())
    assert edition.card_slugs
    _fits(browser, edition, "busy-week", width)


def _fits(browser: Browser, edition: RenderedEdition, name: str, width: int) -> None:
    settings = make_settings()
    person = recipient_of(settings, 42, "zoe@example.nl", "Zoë", post_slug=edition.post_slug)
    html, _ = personalise(edition, person)
    # Dark mode is checked on the phone, where most readers have it on.
    for scheme in ("light", "dark") if width == 375 else ("light",):
        page = browser.new_page(viewport={"width": width, "height": 900}, color_scheme=scheme)
        page.route("**/*", _no_network)
        page.set_content(html, wait_until="load")
        scroll_width = page.evaluate("document.scrollingElement.scrollWidth")
        body_size = page.evaluate(
            "parseFloat(getComputedStyle(document.querySelector('p.p')).fontSize)"
        )
        suffix = "" if scheme == "light" else "-dark"
        save_screenshot(page, f"{name}-{width}{suffix}")
        page.close()
        assert scroll_width <= width, f"{scheme}: content is {scroll_width}px wide in {width}px"
        assert body_size >= 16
