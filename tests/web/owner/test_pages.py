"""The overview and an edition's page, logged in, over the real app: the figures of a
seeded history, charts as inline SVG with a table each, and the strict policy kept."""

from __future__ import annotations

import re

import httpx

from newsletter.db.database import Database
from newsletter.setup import doctor
from newsletter.setup.doctor import Result
from tests.support.bulk import LargeList, seed_large_list
from tests.support.history import DOMAINS, History
from tests.support.smtp import ReceivedMail

from .conftest import AREA, log_in

STRICT_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


async def test_the_overview_shows_the_last_twelve_editions_as_the_database_has_them(
    client: httpx.AsyncClient, history: History, outbox: list[ReceivedMail]
) -> None:
    page = (await log_in(client, outbox)).text

    rows = re.findall(r'<a href="/beheer/editie/(\d+)">', page)
    assert [int(edition_id) for edition_id in rows] == history.edition_ids[::-1][:12]
    for edition_id in history.edition_ids[-12:]:
        expected = history.expected[edition_id]
        cells = "".join(
            f"<td>{expected[key]}</td>"
            for key in ("recipients", "sent", "deferred", "failed", "hard", "soft")
        )
        cells += f"<td>0</td><td>{expected['complaints']}</td><td>{expected['unsubscribes']}</td>"
        assert cells in page, edition_id


async def test_every_chart_is_inline_svg_with_a_table_and_no_script(
    client: httpx.AsyncClient, history: History, outbox: list[ReceivedMail]
) -> None:
    overview = await log_in(client, outbox)

    assert overview.headers["content-security-policy"] == STRICT_POLICY
    assert overview.headers["cache-control"] == "no-store"
    page = overview.text
    assert page.count('<svg class="chart"') == 4
    assert page.count('role="img"') == 4
    assert page.count("<table>") >= 4
    assert "<script" not in page.lower()
    assert not re.search(r"\son[a-z]+=", page)  # no event handler attributes
    assert not re.search(r'(src|href)="https?://', page)  # nothing loaded from elsewhere
    assert "grens 0,3%" in page  # the complaint limit, drawn as a line


async def test_an_editions_page_has_its_tally_returns_and_archive_link(
    client: httpx.AsyncClient, history: History, outbox: list[ReceivedMail]
) -> None:
    await log_in(client, outbox)
    edition_id = next(e for e in history.edition_ids if history.expected[e]["hard"])
    expected = history.expected[edition_id]

    page = (await client.get(f"{AREA}/editie/{edition_id}")).text

    assert f"Van de {expected['recipients']} ontvangers" in page
    assert f'<th scope="row">Verstuurd</th><td>{expected["sent"]}</td>' in page
    assert page.count("550 5.1.1 user unknown") == expected["hard"]
    assert page.count("Feedback-Type: abuse") == expected["complaints"]
    assert f'href="/archive/stuk-{history.edition_ids.index(edition_id)}"' in page
    for domain in DOMAINS:
        sent = expected[f"sent@{domain}"]
        assert f'<th scope="row">{domain}</th><td>{sent}</td>' in page


async def test_an_unknown_edition_is_a_dutch_not_found_inside_the_area(
    client: httpx.AsyncClient, database: Database, outbox: list[ReceivedMail]
) -> None:
    await log_in(client, outbox)
    for edition_id in ("999", "99999999999999999999"):
        answer = await client.get(f"{AREA}/editie/{edition_id}")
        assert answer.status_code == 404, edition_id
        assert "Deze pagina bestaat niet" in answer.text


async def test_the_overview_names_the_checks_the_last_doctor_run_did_not_pass(
    client: httpx.AsyncClient, database: Database, outbox: list[ReceivedMail]
) -> None:
    assert "Nog nooit gedraaid" in (await log_in(client, outbox)).text
    doctor.record(database, [Result("spf", "fail", "no record"), Result("dmarc", "warn", "")])
    page = (await client.get(AREA)).text
    assert "<strong>niet in orde</strong> (spf), let op: dmarc." in page


async def test_an_editions_returned_mail_is_paged_newest_first_with_dutch_links(
    client: httpx.AsyncClient, database: Database, outbox: list[ReceivedMail]
) -> None:
    # 1,200 readers, one in 20 returned: 60 reports (two days after the send) and 60
    # refusals (one hour after): 120 rows, three pages of 50, 50 and 20.
    edition_id = seed_large_list(database, LargeList(1200, weeks=1, returns_every=20))
    await log_in(client, outbox)
    area = f"{AREA}/editie/{edition_id}"

    pages, path = [], area
    while True:
        page = (await client.get(path)).text
        assert "Van de 1200 ontvangers" in page  # the counts are the edition's, on every page
        pages.append(page)
        following = re.search(r'<a href="(\?pagina=\d+)#teruggekomen" rel="next">Volgende', page)
        if following is None:
            break
        path = area + following[1]

    rows = [re.findall(r'<td class="text">(lezer\d+)@', page) for page in pages]
    assert [len(shown) for shown in rows] == [50, 50, 20]
    listed = [int(reader.removeprefix("lezer")) for shown in rows for reader in shown]
    reports = [20 * x for x in range(60, 0, -1)]  # the newest report first
    assert listed == reports + [20 * x - 1 for x in range(60, 0, -1)]
    assert "Vorige" not in pages[0]
    assert '<a href="?pagina=1#teruggekomen" rel="prev">← Vorige</a>' in pages[1]
    assert "Volgende" not in pages[2]
    assert "101 tot 120 van 120, nieuwste eerst" in pages[2]
    for asked, shown in (("0", pages[0]), ("x", pages[0]), ("-2", pages[0]), ("99", pages[2])):
        assert (await client.get(f"{area}?pagina={asked}")).text == shown, asked
