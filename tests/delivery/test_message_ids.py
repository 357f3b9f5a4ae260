"""Our Message-IDs (pure): ``<edition.subscriber.MAC@domain>``, the MAC made with the
secret key. The same for every copy of one message; nobody without the key can write
another reader's; the guessable stamp form of old is ours no more."""

from __future__ import annotations

import re

import pytest

from newsletter.delivery.message_ids import MessageIds, message_ids
from newsletter.mail.signing import ShortMac
from newsletter.mail.verp import ReturnPaths
from tests.support.settings import SECRET, make_settings

IDS = MessageIds("geheim", "gerritvanderheide.com")


@pytest.mark.parametrize(("edition", "subscriber"), [(1, 1), (7, 42), (123, 2**40)])
def test_a_message_id_names_its_edition_and_reader_and_is_the_same_every_time(
    edition: int, subscriber: int
) -> None:
    made = IDS.make(edition, subscriber)
    assert re.fullmatch(rf"<{edition}\.{subscriber}\.[a-z2-7]{{13}}@gerritvanderheide\.com>", made)
    # a retry, or a copy sent again after a crash, in another process: the same ID
    assert MessageIds("geheim", "gerritvanderheide.com").make(edition, subscriber) == made
    assert IDS.read(made) == (edition, subscriber)
    assert IDS.read(f"  {made}\r\n") == (edition, subscriber)
    assert IDS.read(made.replace("gerritvanderheide.com", "GerritVanDerHeide.COM")) == (
        edition,
        subscriber,
    )


def test_readers_of_one_edition_get_unrelated_macs() -> None:
    macs = {IDS.make(3, number).split(".")[2].partition("@")[0] for number in range(500)}
    assert len(macs) == 500


def test_forged_damaged_and_old_message_ids_are_not_ours() -> None:
    genuine = IDS.make(3, 1)
    mac = genuine.split(".")[2].partition("@")[0]
    for forged in (
        genuine.replace("<3.1.", "<3.2."),  # another reader with the attacker's MAC
        genuine.replace("<3.1.", "<4.1."),  # another edition
        genuine.replace("<3.1.", "<03.1."),
        MessageIds("ander-geheim", "gerritvanderheide.com").make(3, 2),
        genuine.replace(mac, mac[:-1] + ("a" if mac[-1] != "a" else "b")),
        genuine.replace(mac, mac.upper()),
        genuine.replace(mac, mac[:-1]),
        genuine.replace("@gerritvanderheide.com", "@example.org"),
        genuine.strip("<>"),
        "<3.2.20261207060000@gerritvanderheide.com>",  # the stamp form sent until now
        f"<3.2.{ReturnPaths('b@gerritvanderheide.com', 'geheim').token(2).split('-')[1]}"
        "@gerritvanderheide.com>",
        "<3.2.@gerritvanderheide.com>",
        "",
    ):
        assert IDS.read(forged) is None, forged


def test_the_mac_is_no_return_path_token_and_no_other_installation_s() -> None:
    """Its own salt: the same text signed for a return path gives another MAC."""
    made = IDS.make(3, 1)
    assert ShortMac("geheim", b"newsletter.bounce-return-path:").sign("3.1") not in made
    assert MessageIds("ander-geheim", "gerritvanderheide.com").make(3, 1) != made


def test_the_installation_s_message_ids_use_the_secret_key_and_from_domain() -> None:
    settings = make_settings()
    assert message_ids(settings).make(3, 1) == MessageIds(SECRET, "gerritvanderheide.com").make(
        3, 1
    )
    assert message_ids(settings).of_edition(3).for_subscriber(1) == message_ids(settings).make(3, 1)
