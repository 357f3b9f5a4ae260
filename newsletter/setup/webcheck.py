"""The ``base_url`` check: every link in every email starts with it, so it must be https
and must reach this newsletter's web app (its ``/healthz`` answer proves that)."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from newsletter.setup.checkup import Checkup, Finding, Status, is_loopback

TIMEOUT_SECONDS = 10.0


def check_base_url(checkup: Checkup) -> Finding:
    base_url = checkup.settings.newsletter.base_url.rstrip("/")
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    answer = _health(f"{base_url}/healthz")
    if parts.scheme != "https":
        # Plain http is refused for a public address (mail providers flag http unsubscribe
        # links, and tokens would cross the network readable); on this machine it is the
        # demo or a test, so only a warning.
        status: Status = "warn" if is_loopback(host) else "fail"
        where = "only on this machine" if is_loopback(host) else "over plain http"
        return Finding(
            status,
            f"newsletter.base_url {base_url} is {where} ({answer[1]}): readers need a public "
            "https address; put the app behind a TLS proxy (the Caddyfile of `newsletter init`)",
        )
    healthy, said = answer
    if not healthy:
        return Finding("fail", f"{base_url}/healthz {said}")
    return Finding("ok", f"{base_url}/healthz {said}")


def _health(url: str) -> tuple[bool, str]:
    """(healthy, what happened): the app answers 200 with its JSON only when it can work."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
    try:
        with urllib.request.urlopen(  # noqa: S310 (the scheme is http or https)
            request, timeout=TIMEOUT_SECONDS, context=ssl.create_default_context()
        ) as response:
            body = response.read(4096)
            status = response.status
    except urllib.error.HTTPError as exc:
        detail = exc.read(200).decode("utf-8", "replace").strip()
        return False, f"answered {exc.code} {detail}: check `newsletter status` and its log"
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, ssl.SSLCertVerificationError):
            return False, (
                f"has a certificate that is not trusted ({reason.verify_message}): let the "
                "proxy get one for this host name (Caddy does it by itself)"
            )
        text = getattr(reason, "strerror", None) or str(reason)
        return False, f"cannot be reached ({text}): is `newsletter run` running behind the proxy?"
    except (TimeoutError, OSError) as exc:
        return False, f"cannot be reached ({exc}): is `newsletter run` running behind the proxy?"
    try:
        health = json.loads(body)
    except ValueError:
        health = None
    if status != 200 or not isinstance(health, dict) or health.get("database") != "ok":
        return False, (
            f"answered {status} but not as this newsletter's web app: the proxy sends "
            "base_url elsewhere"
        )
    return True, "answers: " + ", ".join(f"{key} {value}" for key, value in health.items())
