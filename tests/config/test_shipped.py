"""config/shipped: the non-Python files are found in a wheel's bundle first, then in a
checkout, and a broken installation says which folder is missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.config.shipped import resource_dir
from newsletter.errors import NewsletterError


def test_templates_are_found_next_to_the_package() -> None:
    directory = resource_dir("templates/emails")
    assert (directory / "newsletter.html").is_file()
    assert (directory / "newsletter.txt").is_file()
    assert directory.parts[-2:] == ("templates", "emails")


def test_bundled_templates_win_over_a_checkout(tmp_path: Path) -> None:
    package = tmp_path / "site-packages" / "newsletter"
    bundled = package / "_bundled" / "templates" / "emails"
    checkout = tmp_path / "site-packages" / "templates" / "emails"
    with pytest.raises(NewsletterError, match="missing from this installation"):
        resource_dir("templates/emails", package=package)
    checkout.mkdir(parents=True)
    assert resource_dir("templates/emails", package=package) == checkout
    bundled.mkdir(parents=True)
    assert resource_dir("templates/emails", package=package) == bundled
