"""Where this installation keeps the files the package ships: the migrations, the email and
web templates, the example posts.

A wheel carries them under ``newsletter/_bundled/`` (see ``pyproject.toml``); a checkout (an
editable install, the tests) has them at the top of the repository. One lookup for all of
them, bundled copy first, so an installed package never reads a stray checkout. It sits
with the settings because, like them, it describes this installation, and every part that
renders or migrates already reads its settings.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from newsletter.errors import NewsletterError


def resource_dir(name: str, *, package: Path | None = None) -> Path:
    """The folder ``name`` (``migrations``, ``templates/emails``, ``examples/posts``...).

    ``package`` is the installed ``newsletter`` folder; tests pass another one.
    """
    package = package or Path(str(files("newsletter")))
    candidates = (package / "_bundled" / name, package.parent / name)
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise NewsletterError(
        f"the {name!r} folder is missing from this installation; looked in "
        + ", ".join(str(c) for c in candidates)
    )
