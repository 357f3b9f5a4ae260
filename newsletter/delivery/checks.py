"""Check a built message the way mail providers and clients will judge it, before it is sent.

:func:`check_edition` is pure and fast, so ``newsletter check`` and ``newsletter preview``
can run it on every edition: size against Gmail's clipping, text/HTML parity (spam filters
penalise parts that say different things), images without alt text, suspicious links,
the signature, the unsubscribe link in all three places it must be, and the headers that
mailbox providers sort and count by (List-Id, Feedback-ID).
:func:`spamassassin_score` adds SpamAssassin's local rules when the binary is installed.
"""

from __future__ import annotations

import email
import email.policy
import html
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from email.message import EmailMessage
from html.parser import HTMLParser
from typing import Literal
from urllib.parse import urlsplit

from newsletter.errors import NewsletterError
from newsletter.mail.render import GMAIL_CLIP_BYTES, MAX_HTML_BYTES, PLACEHOLDERS, RenderedEdition

Status = Literal["pass", "fail", "warn", "info"]
_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
_SPAMASSASSIN_TIMEOUT_SECONDS = 120
# RFC 2919: an optional phrase, then <list-label.namespace> (dot-atom-text) at the end.
_LIST_ID = re.compile(
    r"(?:(?P<phrase>\S.*?)\s*)?<(?P<id>[!#-'*+/-9=?A-Z^-~-]+(?:\.[!#-'*+/-9=?A-Z^-~-]+)+)>"
)
# Gmail: Feedback-ID: a:b:c:SenderId, the SenderId 5 to 15 characters.
_FEEDBACK_ID = re.compile(r"(?:[^:\s]*:){0,3}(?P<sender>[^:\s]{5,15})")


@dataclass(frozen=True, slots=True)
class Finding:
    status: Status
    check: str
    detail: str

    def line(self) -> str:
        return f"{self.status.upper():<4}  {self.check}: {self.detail}"


@dataclass(frozen=True, slots=True)
class Report:
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return not any(f.status == "fail" for f in self.findings)

    def lines(self) -> list[str]:
        """One line per finding and a summary, ready to print."""
        counts = {
            s: sum(1 for f in self.findings if f.status == s) for s in ("pass", "fail", "warn")
        }
        summary = f"{counts['pass']} passed, {counts['fail']} failed, {counts['warn']} warnings"
        return [f.line() for f in self.findings] + [summary]


class _HtmlScan(HTMLParser):
    """Visible text, link targets and alt-less images of an HTML document."""

    _INVISIBLE = frozenset({"head", "style", "script", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text_chunks: list[str] = []
        self.hrefs: list[str] = []
        self.images_without_alt: list[str] = []
        self._hidden_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag in self._INVISIBLE:
            self._hidden_depth += 1
        elif tag == "a" and "href" in attributes:
            self.hrefs.append((attributes["href"] or "").strip())
        elif tag == "img" and not (attributes.get("alt") or "").strip():
            self.images_without_alt.append(attributes.get("src") or "(no src)")
        if tag in ("br", "p", "td", "li", "h1", "h2", "h3"):
            self.text_chunks.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._INVISIBLE and self._hidden_depth:
            self._hidden_depth -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden_depth:
            self.text_chunks.append(data)


def check_edition(edition: RenderedEdition, message_bytes: bytes, signature: str) -> Report:
    """Judge one built message of ``edition`` (``signature``: ``newsletter.signature``, which
    must close both parts); ``Report.ok`` is False when any check fails."""
    message = email.message_from_bytes(message_bytes, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    html_part = _part(message, "html")
    text_part = _part(message, "plain")
    if html_part is None or text_part is None:
        return Report((Finding("fail", "structure", "needs a text/plain and a text/html part"),))

    scan = _HtmlScan()
    scan.feed(html_part)
    scan.close()
    findings = [
        _size(html_part, message, edition),
        *_parity(edition, _normalise("".join(scan.text_chunks)), _normalise(text_part)),
        _images(scan.images_without_alt),
        *_links(scan.hrefs),
        *_signature(signature, html_part, text_part),
        *_unsubscribe(message_bytes, message, scan.hrefs, text_part),
        *_list_headers(message_bytes),
        _placeholders(html_part, text_part),
    ]
    return Report(tuple(findings))


@dataclass(frozen=True, slots=True)
class SpamScore:
    """SpamAssassin's verdict: the score and the rules that made it (``RULE=points,...``)."""

    score: float
    rules: str


def spamassassin_score(message_bytes: bytes) -> SpamScore | None:
    """SpamAssassin's score with local rules only (no DNS, no Bayes), or None when not installed.

    A throw-away HOME keeps runs reproducible and leaves no state behind. The score is the
    sum of the rule points, exact to the thousandth (SpamAssassin itself rounds to tenths).
    """
    binary = shutil.which("spamassassin")
    if binary is None:
        return None
    with tempfile.TemporaryDirectory(prefix="newsletter-spamassassin-") as home:
        command = [
            binary,
            "-L",
            "-t",
            "-x",
            "--cf=use_bayes 0",
            "--cf=bayes_auto_learn 0",
            "--cf=add_header all RuleScores _TESTSSCORES(,)_",
        ]
        try:
            result = subprocess.run(  # noqa: S603 (fixed arguments, message on stdin)
                command,
                input=message_bytes,
                capture_output=True,
                env={
                    "PATH": os.environ.get("PATH", ""),
                    "HOME": home,
                    "LANG": "C.UTF-8",
                },  # no secrets
                timeout=_SPAMASSASSIN_TIMEOUT_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise NewsletterError("spamassassin did not finish within 120 seconds") from None
    if result.returncode != 0:
        problem = result.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        raise NewsletterError(f"spamassassin failed (exit {result.returncode}): {problem[0]}")
    return _parse_score(result.stdout)


def _parse_score(output: bytes) -> SpamScore:
    head = re.split(rb"\r?\n\r?\n", output, maxsplit=1)[0].decode("utf-8", "replace")
    unfolded = re.sub(r"\r?\n[ \t]+", " ", head)
    rules = re.search(r"^X-Spam-RuleScores:[ \t]*(.*)$", unfolded, re.MULTILINE)
    if rules and rules.group(1).strip() not in ("", "none"):
        named = rules.group(1).strip()
        points = re.findall(r"[A-Z0-9_]+=(-?\d+(?:\.\d+)?)", named)
        return SpamScore(round(sum(float(p) for p in points), 3), named)
    status = re.search(r"^X-Spam-Status:.*?score=(-?\d+(?:\.\d+)?)", unfolded, re.MULTILINE)
    if status is None:
        raise NewsletterError("spamassassin gave no score (no X-Spam-Status header)")
    return SpamScore(float(status.group(1)), "no rules named")


def _part(message: EmailMessage, subtype: str) -> str | None:
    body = message.get_body(preferencelist=(subtype,))
    if body is None or body.get_content_subtype() != subtype:
        return None
    content = body.get_content()
    # Parts sent with CRLF line ends decode with them; compare texts with plain newlines.
    return content.replace("\r\n", "\n") if isinstance(content, str) else None


def _size(html_part: str, message: EmailMessage, edition: RenderedEdition) -> Finding:
    size = len(html_part.encode("utf-8"))
    html_body = message.get_body(preferencelist=("html",))
    wire = len(str(html_body.get_payload()).encode("ascii", "replace")) if html_body else 0
    detail = (
        f"{size / 1000:.1f} kB of HTML, limit {MAX_HTML_BYTES / 1000:.0f} kB (Gmail clips at "
        f"{GMAIL_CLIP_BYTES / 1024:.0f} KB); {wire / 1000:.1f} kB quoted-printable"
        + ("; excerpt of the post" if edition.excerpt else "")
    )
    return Finding("fail" if size >= MAX_HTML_BYTES else "pass", "HTML size", detail)


def _parity(edition: RenderedEdition, html_text: str, text: str) -> list[Finding]:
    missing_html = [p for p in edition.key_phrases if _normalise(p) not in html_text]
    missing_text = [p for p in edition.key_phrases if _normalise(p) not in text]
    findings = []
    for part, missing in (("HTML", missing_html), ("text", missing_text)):
        if missing:
            shown = "; ".join(repr(p) for p in missing[:3])
            detail = f"{len(missing)} of {len(edition.key_phrases)} missing: {shown}"
            findings.append(Finding("fail", f"headings, prompts and questions in {part}", detail))
        else:
            detail = f"all {len(edition.key_phrases)} present"
            findings.append(Finding("pass", f"headings, prompts and questions in {part}", detail))
    return findings


def _images(images_without_alt: list[str]) -> Finding:
    if images_without_alt:
        return Finding("fail", "alt text on images", "missing on " + ", ".join(images_without_alt))
    return Finding("pass", "alt text on images", "every image has alt text (or there are none)")


def _links(hrefs: list[str]) -> list[Finding]:
    findings = []
    for href in dict.fromkeys(hrefs):
        if not href or href.lower().startswith("javascript:"):
            findings.append(Finding("fail", "link", f"unusable href {href!r}"))
        elif href.lower().startswith("http://"):
            findings.append(Finding("warn", "link", f"{href} (not https)"))
        else:
            findings.append(Finding("info", "link", href))
    return findings


def _signature(signature: str, html_part: str, text_part: str) -> list[Finding]:
    lines = signature.strip("\n").splitlines()
    # The greeting line is counted too: a post that ends with its own "Groet," reads as
    # signed twice even when only one full signature is there.
    greeting = lines[0].strip() if lines else ""
    greetings_in_html = html_part.count(html.escape(greeting, quote=False)) if greeting else 0
    greetings_in_text = (
        sum(1 for line in text_part.splitlines() if line.startswith(greeting)) if greeting else 0
    )
    forms = (
        (
            "HTML",
            "<br>".join(html.escape(line, quote=False) for line in lines),
            html_part,
            greetings_in_html,
        ),
        ("text", "\n".join(lines), text_part, greetings_in_text),
    )
    findings = []
    for part, form, body, greetings in forms:
        count = max(body.count(form), greetings)
        findings.append(
            Finding("pass" if count == 1 else "fail", f"signature in {part}", f"{count} time(s)")
        )
    return findings


def _unsubscribe(
    message_bytes: bytes, message: EmailMessage, hrefs: list[str], text_part: str
) -> list[Finding]:
    raw = _raw_header(message_bytes, "List-Unsubscribe")
    post = str(message.get("List-Unsubscribe-Post", ""))
    findings = [
        Finding(
            "pass" if post == "List-Unsubscribe=One-Click" else "fail",
            "List-Unsubscribe-Post (RFC 8058 one-click)",
            post or "missing",
        )
    ]
    if raw is None or _ENCODED_WORD.search(raw):
        problem = "missing" if raw is None else "RFC 2047-encoded; clients will not decode it"
        return [*findings, Finding("fail", "List-Unsubscribe", problem)]
    urls = re.findall(r"<([^<>]*)>", raw)
    https = next((u for u in urls if u.lower().startswith("https://")), None)
    has_mailto = any(u.lower().startswith("mailto:") for u in urls)
    local = next((u for u in urls if _is_loopback_http(u)), None)
    if https is None and local is None:
        return [*findings, Finding("fail", "List-Unsubscribe", f"no https URL in {raw!r}")]
    if https is None:
        # A local demo on 127.0.0.1 cannot have https; RFC 8058 clients would ignore it.
        findings.append(Finding("warn", "List-Unsubscribe", f"{local}: http on loopback (demo)"))
    else:
        mailto = "too" if has_mailto else "missing"
        findings.append(Finding("pass", "List-Unsubscribe", f"{https}; mailto {mailto}"))
    link = https or local or ""
    for part, present in (("HTML", link in hrefs), ("text", link in text_part)):
        findings.append(
            Finding(
                "pass" if present else "fail",
                f"unsubscribe link in {part}",
                "same URL as List-Unsubscribe" if present else f"{link} not found",
            )
        )
    return findings


def _list_headers(message_bytes: bytes) -> list[Finding]:
    """List-Id names the list (RFC 2919), Feedback-ID has Gmail's form; both as on the wire."""
    list_id = _raw_header(message_bytes, "List-Id")
    found = _LIST_ID.fullmatch(list_id or "")
    if found is None:
        listed = Finding("fail", "List-Id (RFC 2919)", f"not <name.domain>: {list_id!r}")
    elif not found["phrase"]:
        listed = Finding("warn", "List-Id (RFC 2919)", f"{list_id}: no name of the newsletter")
    else:
        listed = Finding("pass", "List-Id (RFC 2919)", list_id or "")
    feedback = _raw_header(message_bytes, "Feedback-ID")
    if feedback is None or not _FEEDBACK_ID.fullmatch(feedback):
        problem = "missing" if feedback is None else f"not a:b:c:SenderId: {feedback!r}"
        return [listed, Finding("fail", "Feedback-ID (Gmail)", problem)]
    return [listed, Finding("pass", "Feedback-ID (Gmail)", feedback)]


def _is_loopback_http(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "http" and parts.hostname in {"127.0.0.1", "localhost", "::1"}


def _placeholders(html_part: str, text_part: str) -> Finding:
    left = [p for p in PLACEHOLDERS if p in html_part or p in text_part]
    if left:
        return Finding("fail", "personalisation", "placeholders left: " + ", ".join(left))
    return Finding("pass", "personalisation", "no placeholders left")


def _raw_header(message_bytes: bytes, name: str) -> str | None:
    """A header exactly as on the wire, unfolded and not decoded (to spot RFC 2047 mangling)."""
    head = re.split(rb"\r?\n\r?\n", message_bytes, maxsplit=1)[0].decode("ascii", "replace")
    for line in re.sub(r"\r?\n(?=[ \t])", "", head).splitlines():
        field, colon, value = line.partition(":")
        if colon and field.strip().lower() == name.lower():
            return value.strip()
    return None


def _normalise(text: str) -> str:
    return " ".join(text.split())
