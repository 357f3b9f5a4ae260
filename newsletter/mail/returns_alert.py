"""The owner's mail when an edition bounces or is reported as spam too often (Dutch).

Relays cut off senders whose hard-bounce or complaint rates stay high; this mail is the
one warning before the next weekly edition goes out, which is held until the owner
releases or cancels it.
"""

from __future__ import annotations

import html
from datetime import datetime

from newsletter.config import Settings
from newsletter.mail.message import build_single_message


def build_returns_alert(
    settings: Settings,
    *,
    edition_id: int,
    subject: str,
    recipients: int,
    hard: int,
    complaints: int,
    now: datetime,
) -> bytes:
    limits = settings.bounces
    lines = [
        f"Editie {edition_id} (\u201c{subject}\u201d) ging naar {recipients} lezers.",
        "",
        f"Harde bounces: {hard} ({_percent(hard, recipients)}; "
        f"grens {limits.hard_alert_percent:g}%)",
        f"Spamklachten: {complaints} ({_percent(complaints, recipients)}; "
        f"grens {limits.complaint_alert_percent:g}%)",
        "",
        "Zulke aantallen kosten de afzender zijn goede naam bij Gmail, Outlook en je relay.",
        "Adressen die hard bouncen of klagen krijgen de nieuwsbrief niet meer.",
        "",
        "De volgende wekelijkse editie wordt daarom vastgehouden tot je hem vrijgeeft",
        "(newsletter editions release N) of annuleert (newsletter editions cancel N).",
        "Bekijk eerst wat er terugkwam: newsletter bounces list",
    ]
    text = "\n".join(lines) + "\n"
    body = "".join(f"<p>{html.escape(line)}</p>" if line else "" for line in lines)
    return build_single_message(
        settings.newsletter,
        to_name=None,
        to_address=settings.newsletter.owner_address,
        subject=f"Nieuwsbrief: te veel bounces of klachten bij editie {edition_id}",
        text=text,
        html=f'<!doctype html><html lang="nl"><body>{body}</body></html>',
        now=now,
    )


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"
