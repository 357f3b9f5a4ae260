"""What the owner reads when an edition bounces or is reported as spam too often (Dutch).

Relays cut off senders whose hard-bounce or complaint rates stay high; this notice is the
one warning before the next weekly edition goes out, which is held until the owner
releases or cancels it. Recorded as an owner alert; the owner-mail sender mails it.
"""

from __future__ import annotations

from newsletter.config import BouncesSection
from newsletter.mail.owner import Notice


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
            f"grens {limits.hard_alert_percent:g}%)",
            f"Spamklachten: {complaints} ({_percent(complaints, recipients)}; "
            f"grens {limits.complaint_alert_percent:g}%)",
            "Zulke aantallen kosten de afzender zijn goede naam bij Gmail, Outlook en je "
            "relay. Adressen die hard bouncen of klagen krijgen de nieuwsbrief niet meer.",
            "De volgende wekelijkse editie wordt daarom vastgehouden tot je hem vrijgeeft "
            "(newsletter editions release N) of annuleert (newsletter editions cancel N). "
            "Bekijk eerst wat er terugkwam: newsletter bounces list",
        ],
    )


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"
