"""``newsletter editions show``: an edition's figures, read without loading the sender.

The commands' behaviour on a sent edition is covered with ``send`` in ``test_send.py``;
this module guards what splitting them from ``send`` was for (issue 25).
"""

from __future__ import annotations

import json
from pathlib import Path

from newsletter.db.database import open_database
from tests.support.bulk import LargeList, seed_large_list
from tests.support.cli import NOT_FOR_A_QUICK_COMMAND, NewsletterCli, imported_by


def test_showing_an_edition_loads_no_engine_and_counts_its_returns(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/newsletter.db"
    NewsletterCli(url, tmp_path).ok("db", "upgrade")
    database = open_database(url)
    newest = seed_large_list(database, LargeList(1000, weeks=2, returns_every=50))
    database.dispose()

    stdout, modules = imported_by(
        ["editions", "show", str(newest), "--json"], {"NEWSLETTER_DATABASE__URL": url}
    )

    shown = json.loads(stdout)
    assert (shown["id"], shown["recipients"]) == (newest, 1000)
    # 20 reports (by x % 10: 2 complaints, 2 soft, 16 hard), 20 hard refusals, and the
    # 4 deliveries whose 4xx no retry delivered (x % 300 == 7).
    assert (shown["bounces"]["hard"], shown["bounces"]["soft"], shown["complaints"]) == (36, 6, 2)
    loaded = {name.split(".")[0] for name in modules}
    assert loaded.isdisjoint(NOT_FOR_A_QUICK_COMMAND), sorted(loaded & set(NOT_FOR_A_QUICK_COMMAND))
    assert "newsletter.cli.send" not in modules
