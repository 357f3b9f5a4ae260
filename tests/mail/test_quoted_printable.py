"""The fast line encoder against the email package's own, on chosen and arbitrary lines."""

from __future__ import annotations

from email import quoprimime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter.mail.quoted_printable import encode_line

WIDTH = 78  # what message.py's policy writes


def reference(line: bytes, width: int = WIDTH) -> bytes:
    encoded = quoprimime.body_encode(line.decode("latin-1") + "\n", width)
    return encoded.encode("ascii").replace(b"\n", b"\r\n")


@pytest.mark.parametrize(
    "line",
    [
        b"",
        b"Hoi Lezer 1,",
        '<a href="https://x.nl/unsubscribe/abc" style="color:#555;">Afmelden</a> Zoë'.encode(),
        b"x" * 77 + b"=",
        b"x" * 76 + b"==",
        b"a" * 200 + b" ",
        b"a" * 77 + b"\t",
        b"a" * 76 + b" ",
        b"a" * 75 + b" ",
        b"\x00\x0b\x1c\x7f\xff" * 30,
    ],
)
def test_chosen_lines_match_the_email_package(line: bytes):
    assert encode_line(line, WIDTH) == reference(line)


LINE_BYTES = st.binary(max_size=400).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))


@settings(max_examples=400)
@given(line=LINE_BYTES, width=st.integers(min_value=4, max_value=100))
def test_any_line_matches_the_email_package(line: bytes, width: int):
    assert encode_line(line, width) == reference(line, width)


@settings(max_examples=200)
@given(text=st.text(alphabet=st.sampled_from('ab =\t.é<>"'), max_size=300))
def test_lines_full_of_escapes_and_spaces_match(text: str):
    line = text.encode()
    assert encode_line(line, WIDTH) == reference(line)
