"""What the owner reads about what came back (Dutch): an edition that bounces or is
reported as spam too often, a domain whose hard bounces are held as suspect, and
rejections on our side with their likely fix.

Relays cut off senders whose hard-bounce or complaint rates stay high; the first notice is
the one warning before the next weekly edition goes out, which is held until the owner
releases or cancels it. Each is recorded as an owner alert; the owner-mail sender mails it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from newsletter.config import BouncesSection
from newsletter.mail.owner import Notice, dutch_percent


def returns_notice(
    limits: BouncesSection,
    *,
    edition_id: int,
    subject: str,
    recipients: int,
    hard: int,
    complaints: int,
) -> Notice:
    return Notice(
        subject=f"Nieuwsbrief: te veel bounces of klachten bij editie {edition_id}",
        paragraphs=[
            f"Editie {edition_id} (\u201c{subject}\u201d) ging naar {recipients} lezers.",
            f"Harde bounces: {hard} ({_percent(hard, recipients)}; "
            f"grens {dutch_percent(limits.hard_alert_percent, 'g')})",
            f"Spamklachten: {complaints} ({_percent(complaints, recipients)}; "
            f"grens {dutch_percent(limits.complaint_alert_percent, 'g')})",
            "Zulke aantallen kosten de afzender zijn goede naam bij Gmail, Outlook en je "
            "relay. Adressen die hard bouncen of klagen krijgen de nieuwsbrief niet meer.",
            "De volgende wekelijkse editie wordt daarom vastgehouden tot je hem vrijgeeft "
            "(newsletter editions release N) of annuleert (newsletter editions cancel N). "
            "Bekijk eerst wat er terugkwam: newsletter bounces list",
        ],
    )


def _percent(part: int, whole: int) -> str:
    return dutch_percent(100 * part / whole) if whole else "-"


# The causes on our side, as the owner reads them.
CAUSES = {
    "blocked": "geblokkeerd (ons IP-adres of domein)",
    "authfailure": "SPF, DKIM of DMARC klopt niet",
    "reversedns": "geen passend PTR-record",
    "policy": "geweigerd door het beleid van de ontvanger",
    "spam": "als spam gezien",
    "virus": "als virus gezien",
    "contentrejected": "inhoud geweigerd",
    "norelaying": "doorsturen geweigerd",
    "ratelimited": "te veel tegelijk",
    "tlsrequired": "TLS vereist",
}


def suspect_notice(*, edition_id: int, subject: str, domain: str, held: int, mail: int) -> Notice:
    """The share is the edition's own at that domain, not the threshold it passed."""
    return Notice(
        subject=f"Nieuwsbrief: veel harde bounces bij {domain} (editie {edition_id})",
        paragraphs=[
            f"Van editie {edition_id} (\u201c{subject}\u201d) kwamen {held} van de {mail} "
            f"berichten aan {domain} ({held / max(mail, 1):.0%}) terug als \u201cadres bestaat "
            f"niet\u201d. Zoveel lezers verliest een domein niet in een week; vaker is er bij "
            f"{domain} iets mis, of worden wij daar geweigerd.",
            "Deze lezers blijven daarom actief. Bekijk wat er terugkwam: newsletter bounces list",
            f"Zijn de adressen echt weg, schrap ze dan met: newsletter bounces confirm "
            f"{edition_id} {domain}. Doe je niets, dan blijven ze de nieuwsbrief krijgen.",
        ],
    )


@dataclass(frozen=True)
class Rejection:
    """Mail one receiving domain refused on our side, for one reason: how often, and the
    first reply (the server's words)."""

    domain: str
    reason: str
    count: int
    reply: str


# Blocklists whose name a rejection quotes, and where to ask to be taken off them.
DELISTING = (
    ("spamhaus", "https://check.spamhaus.org/"),
    ("barracuda", "https://www.barracudacentral.org/rbl/removal-request"),
    ("spamcop", "https://www.spamcop.net/bl.shtml"),
    ("s3150", "https://sender.office.com/"),
)


def likely_fix(reason: str, reply: str, domain: str) -> str:
    """What the owner can do about a rejection on our side, in a sentence."""
    if reason == "blocked":
        lowered = reply.lower()
        for name, page in DELISTING:
            if name in lowered:
                return f"vraag om van de lijst gehaald te worden: {page}"
        return f"vraag de postmaster van {domain} waarom (postmaster@{domain})"
    return {
        "authfailure": "SPF, DKIM of DMARC klopt niet: draai newsletter doctor",
        "reversedns": "het IP-adres van je relay heeft geen (passend) PTR-record: "
        "vraag je provider erom, newsletter doctor controleert het",
        "ratelimited": "te veel tegelijk: verlaag smtp.max_per_second",
        "tlsrequired": "de ontvanger wil TLS: laat je relay STARTTLS gebruiken",
        "norelaying": "de relay weigert door te sturen: controleer smtp.host en de login",
    }.get(reason, f"vraag de postmaster van {domain} waarom (postmaster@{domain})")


def sender_notice(*, edition_id: int, subject: str, rejections: Sequence[Rejection]) -> Notice:
    total = sum(rejection.count for rejection in rejections)
    return Notice(
        subject=f"Nieuwsbrief: editie {edition_id} geweigerd door ontvangende servers",
        paragraphs=[
            f"Van editie {edition_id} (\u201c{subject}\u201d) "
            + ("werd 1 bericht" if total == 1 else f"werden {total} berichten")
            + " geweigerd om een reden aan onze kant, niet die van de lezer. De lezers blijven "
            "actief; zolang het niet verholpen is, missen ze de nieuwsbrief.",
            *(
                f"{r.domain}: {r.count}\u00d7 {CAUSES.get(r.reason, r.reason)} ({r.reply}). "
                "Oplossing: "
                f"{likely_fix(r.reason, r.reply, r.domain)}."
                for r in rejections
            ),
            f"Per domein: newsletter editions show {edition_id}",
        ],
    )
