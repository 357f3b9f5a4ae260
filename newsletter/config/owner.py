"""The section of what the owner hears without asking: the weekly report mail."""

from __future__ import annotations

from dataclasses import dataclass

from newsletter.config.section import Problems


@dataclass(frozen=True)
class OwnerSection:
    """``weekly_report``: a day after each edition went out, one mail to
    ``newsletter.owner_address`` with its figures (as the edition's page has them)."""

    weekly_report: bool = True

    def problems(self) -> Problems:
        yield from ()  # a switch: either value is fine
