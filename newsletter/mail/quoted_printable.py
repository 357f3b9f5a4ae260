"""One body line in quoted-printable, byte for byte as the email package writes it, faster.

The composer encodes the few personal lines of every message again for each reader (see
``compose.py``). ``email.quoprimime.body_encode`` spends most of that time in
``str.translate`` with a table whose entries are mostly one character and sometimes three,
which CPython handles one character at a time. Here the bytes are escaped with
``bytes.replace`` (the many ``=`` of HTML attributes) and one regular expression (the rare
others), then cut into soft-broken lines by the same rules: at most ``width`` characters
before the line end, never inside an escape, a line-final space or tab escaped.
The tests hold it to ``body_encode`` on arbitrary lines.
"""

from __future__ import annotations

import re
from email import quoprimime

_EQUALS = ord("=")
# Runs of the octets the email package escapes in a body, but "=" (escaped first, apart).
_OTHERS = re.compile(
    b"[%s]+"
    % b"".join(
        re.escape(bytes([octet]))
        for octet in range(256)
        if octet != _EQUALS and quoprimime.body_check(octet)
    )
)
_CRLF = b"\r\n"


def _escape(match: re.Match[bytes]) -> bytes:
    """A run of octets to escape (e.g. the UTF-8 of one letter) in one call: "=C3=AB"."""
    return b"=" + match.group().hex("=").upper().encode("ascii")


def encode_line(line: bytes, width: int) -> bytes:
    """``line`` (one source line, without its line end) encoded, each output line ending
    in CRLF: what ``body_encode(line.decode("latin-1") + "\\n", width)`` gives, with CRLF."""
    encoded = line.replace(b"=", b"=3D")
    if _OTHERS.search(encoded):
        encoded = _OTHERS.sub(_escape, encoded)
    pieces: list[bytes] = []
    start = 0
    last_start = len(encoded) - 1 - width  # a rest longer than width is broken again
    while start <= last_start:
        stop = start + width - 1  # room for the soft break's "="
        if encoded[stop - 2] == _EQUALS:  # an escape would be cut after its "=":
            pieces.append(encoded[start : stop - 1])  # that "=" is the soft break
            start = stop - 2
        elif encoded[stop - 1] == _EQUALS:
            pieces.append(encoded[start:stop])
            start = stop - 1
        else:
            pieces.append(encoded[start:stop] + b"=")
            start = stop
    final = encoded[-1:]
    if final in (b" ", b"\t"):
        room = start - last_start
        escaped = b"=%02X" % final[0]
        if room >= 3:
            tail = escaped
        elif room == 2:
            tail = final + b"=" + _CRLF
        else:
            tail = b"=" + _CRLF + escaped
        pieces.append(encoded[start:-1] + tail)
    else:
        pieces.append(encoded[start:])
    return _CRLF.join(pieces) + _CRLF
