"""The password of a URL, hidden wherever the URL is shown."""

from __future__ import annotations

import re

# A URL's password ("https://user:password@host/"): up to the last "@" before the path,
# which is where URL parsers end the user info too.
_URL_PASSWORD = re.compile(r"(?P<user>://[^\s/?#@:]*):[^\s/?#]*@")


def hide_password(text: str) -> str:
    """``text`` with the password of every URL in it shown as ``***``.

    A private feed is read as ``https://user:password@host/feed/``, and the feed's address
    names it in errors, logs, JSON, the doctor's findings and the owner's mail: the
    password must show in none of them. It takes a URL or a message quoting one.
    """
    return _URL_PASSWORD.sub(r"\g<user>:***@", text)
