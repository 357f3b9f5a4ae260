"""The ``spf``, ``dkim`` and ``dmarc`` checks: the sending domain as receivers see it.

checkdmarc reads and validates the SPF and DMARC records (syntax, the 10-lookup limit,
where a DMARC record applies from) and pyspf evaluates SPF for the relay's addresses the
way a receiver does; the DKIM record's key is compared with ours using ``cryptography``.
All of them ask :attr:`Checkup.resolver`: checkdmarc takes it as an argument, and
pyspf's one DNS hook (``spf.DNSLookup``, the function it picks between DNS libraries at
import) is pointed at a function that asks the resolver of the current evaluation.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

import checkdmarc.dmarc
import checkdmarc.spf
import checkdmarc.utils
import dkim.util
import dns.exception
import dns.resolver
import spf
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from newsletter.config import Settings
from newsletter.setup.checkup import Checkup, Finding
from newsletter.setup.records import (
    DnsRecord,
    dkim_key_text,
    dkim_public_key,
    dkim_record,
    dmarc_record,
    domain_of,
    relay_mechanism,
    spf_record,
)

_pyspf_resolver: ContextVar[dns.resolver.Resolver] = ContextVar("pyspf_resolver")


def _pyspf_lookup(
    name: str, qtype: str, strict: bool = True, timeout: float = 30
) -> list[tuple[tuple[str, str], Any]]:
    """pyspf's DNS hook, answered by the resolver of the evaluation running now; the same
    shape of answer as pyspf's own dnspython hook (which uses a deprecated call)."""
    resolver = _pyspf_resolver.get()
    try:
        answer = resolver.resolve(name, qtype, lifetime=min(timeout, resolver.lifetime))
    except (dns.resolver.NoAnswer, dns.resolver.NXDOMAIN):
        return []
    except dns.exception.DNSException as exc:
        raise spf.TempError(f"DNS {exc}") from None
    values: list[tuple[tuple[str, str], Any]] = []
    for rdata in answer:
        if qtype in ("A", "AAAA"):
            values.append(((name, qtype), rdata.address))
        elif qtype == "MX":
            values.append(((name, qtype), (rdata.preference, rdata.exchange)))
        elif qtype == "PTR":
            values.append(((name, qtype), rdata.target.to_text(True)))
        elif qtype in ("TXT", "SPF"):
            values.append(((name, qtype), rdata.strings))
    return values


spf.DNSLookup = _pyspf_lookup


def _fresh_checkdmarc() -> None:
    """checkdmarc caches answers process-wide by name and type, whoever the server: a
    check starts empty, so it sees a record published a minute ago (and a test's zone)."""
    checkdmarc.utils.DNS_CACHE.clear()


def return_path(settings: Settings) -> str:
    """The envelope sender (MAIL FROM) of every message: SPF is checked against its domain.

    With ``[bounces] address`` it is ``bounces+TOKEN@`` that address's domain (VERP, see
    ``newsletter.mail.verp``); the token changes per message, the domain does not.
    """
    return settings.bounces.address or settings.newsletter.from_address


def check_bounce_mx(checkup: Checkup) -> Finding | None:
    """Bounces come back to the return path: its domain must take mail (an MX, not the
    "null MX" of RFC 7505). Not a check when no bounce address is set."""
    address = checkup.settings.bounces.address
    if not address:
        return None
    domain = domain_of(address)
    fix = (
        f"publish the MX record your mail provider names for {domain}, with a mailbox for "
        f"{address} (or set bounces.address to an address of a domain that takes mail)"
    )
    try:
        answer = checkup.resolver.resolve(domain, "MX")
    except (dns.resolver.NoAnswer, dns.resolver.NXDOMAIN):
        return Finding("fail", f"{domain} has no MX, so bounces to {address} are lost: {fix}")
    except dns.exception.DNSException as exc:
        return _lookup_failed(domain, exc)
    hosts = sorted(
        (int(rdata.preference), rdata.exchange.to_text(omit_final_dot=True)) for rdata in answer
    )
    usable = [host for _, host in hosts if host not in ("", ".")]
    if not usable:
        return Finding(
            "fail", f"{domain} says it takes no mail (null MX), so bounces are lost: {fix}"
        )
    return Finding("ok", f"{domain} takes mail for {address} (MX {', '.join(usable)})")


def spf_senders(settings: Settings) -> list[str]:
    """Addresses whose domain's SPF must allow the relay: the From address, and the return
    path when it is of another domain."""
    senders = [settings.newsletter.from_address]
    if domain_of(return_path(settings)) != domain_of(senders[0]):
        senders.append(return_path(settings))
    return senders


def check_spf(checkup: Checkup) -> Finding:
    _fresh_checkdmarc()
    findings = [_check_spf_domain(checkup, sender) for sender in spf_senders(checkup.settings)]
    worst = next((f for status in ("fail", "warn") for f in findings if f.status == status), None)
    if worst is not None:
        return worst
    return Finding("ok", "; ".join(f.message for f in findings))


def _check_spf_domain(checkup: Checkup, sender: str) -> Finding:
    domain = domain_of(sender)
    relay_host = checkup.settings.smtp.host if checkup.settings.transport == "smtp" else ""
    hint = spf_record(domain, relay_host)
    try:
        result = checkdmarc.spf.get_spf_record(domain, resolver=checkup.resolver)
    except checkdmarc.spf.SPFError as exc:
        return _spf_problem(domain, exc, hint)
    record = str(result["record"])
    lookups = int(result["dns_lookups"])
    if not relay_host:
        return Finding("ok", f"{domain}: {record} ({lookups}/10 lookups; no relay to check)")
    try:
        addresses = _addresses(checkup, relay_host)
    except dns.exception.DNSException as exc:
        return _lookup_failed(relay_host, exc)
    if not addresses:
        return Finding("fail", f"the relay {relay_host} has no address in DNS: check smtp.host")
    verdicts = {address: _evaluate(checkup, address, sender, relay_host) for address in addresses}
    refused = {address: verdict for address, verdict in verdicts.items() if verdict != "pass"}
    if refused:
        included = _relay_include(result["parsed"], relay_host)
        if included:
            return Finding(
                "ok",
                f"{domain}: {record} ({lookups}/10 lookups; the relay's own SPF is included: "
                f"include:{included})",
            )
        shown = ", ".join(f"{address}: {verdict}" for address, verdict in refused.items())
        first = relay_mechanism(next(iter(refused)))
        named = relay_mechanism(relay_host)
        add = first if named == first else f"{named} or {first}"
        return Finding(
            "fail",
            f"the SPF record of {domain} does not allow the relay {relay_host} ({shown}), so "
            f"receivers treat its mail as forged: add {add} (or the include: your relay "
            "documents) before the all",
        )
    shown = "" if addresses == [relay_host] else f" ({', '.join(addresses)})"
    return Finding("ok", f"{domain}: {record} ({lookups}/10 lookups) allows {relay_host}{shown}")


def _spf_problem(domain: str, exc: Exception, hint: DnsRecord) -> Finding:
    failure = _dns_failure(exc)
    if failure is not None:
        return _lookup_failed(domain, failure)
    if isinstance(exc, checkdmarc.spf.SPFRecordNotFound):
        return Finding("fail", f'no SPF record at {domain}: publish TXT {hint.name} "{hint.value}"')
    if isinstance(exc, checkdmarc.spf.SPFTooManyDNSLookups):
        lookups = exc.data["dns_lookups"] if exc.data else "more than 10"
        return Finding(
            "fail",
            f"the SPF record of {domain} needs {lookups} DNS lookups, more than the 10 receivers "
            "allow (they then reject it as permerror): drop includes of services you no longer "
            "use, or replace them by their ip4:/ip6: ranges",
        )
    return Finding("fail", f"the SPF record of {domain} is not valid: {exc}")


def _dns_failure(exc: Exception) -> dns.exception.DNSException | None:
    """The DNS error behind checkdmarc's "not found", when it was one (a timeout or a
    SERVFAIL is no proof that a record is missing)."""
    cause: BaseException | None = getattr(exc, "error", None) or exc.__context__
    if isinstance(cause, dns.resolver.NoAnswer | dns.resolver.NXDOMAIN):
        return None
    return cause if isinstance(cause, dns.exception.DNSException) else None


def _lookup_failed(name: str, exc: dns.exception.DNSException) -> Finding:
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return Finding(
        "fail",
        f"the DNS lookup of {name} failed ({reason}): try again, or check doctor.nameserver",
    )


def _addresses(checkup: Checkup, host: str) -> list[str]:
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    found: list[str] = []
    for rdtype in ("A", "AAAA"):
        try:
            found.extend(rdata.address for rdata in checkup.resolver.resolve(host, rdtype))
        except (dns.resolver.NoAnswer, dns.resolver.NXDOMAIN):
            continue
    return found


def _evaluate(checkup: Checkup, address: str, sender: str, relay_host: str) -> str:
    """pyspf's verdict (pass, fail, softfail, neutral, none, permerror, temperror) for a
    message from ``address`` with the envelope sender ``sender``."""
    token = _pyspf_resolver.set(checkup.resolver)
    try:
        verdict, _explanation = spf.check2(i=address, s=sender, h=relay_host)
    finally:
        _pyspf_resolver.reset(token)
    return str(verdict)


def _relay_include(parsed: Any, relay_host: str) -> str | None:
    """The include:/redirect= target of the relay's own organisation, if the record has one:
    a hosted relay sends from its own pool, which its own SPF record lists."""
    relay_base = checkdmarc.utils.get_base_domain(relay_host)
    for target in _included_domains(parsed):
        if checkdmarc.utils.get_base_domain(target) == relay_base:
            return target
    return None


def _included_domains(parsed: Any) -> Iterator[str]:
    if not isinstance(parsed, dict):
        return
    for mechanism in parsed.get("mechanisms", []):
        if mechanism.get("mechanism") == "include":
            yield str(mechanism["value"])
            yield from _included_domains(mechanism.get("parsed"))
    redirect = parsed.get("redirect")
    if redirect:
        yield str(redirect["domain"])
        yield from _included_domains(redirect.get("parsed"))


def check_dkim(checkup: Checkup) -> Finding:
    settings = checkup.settings
    section = settings.dkim
    if not section.domain or settings.dkim_private_key is None:
        return Finding(
            "warn",
            "messages are not DKIM-signed by the newsletter: unless your relay signs with a key "
            f"of {domain_of(settings.newsletter.from_address)}, set [dkim] (`newsletter init "
            "--dkim-selector` makes a key and its record)",
        )
    private_key = settings.dkim_private_key.reveal()
    wanted = dkim_record(section.domain, section.selector, private_key)
    publish = f'publish TXT {wanted.name} "{wanted.value}"'
    try:
        answer = checkup.resolver.resolve(wanted.name, "TXT")
    except (dns.resolver.NoAnswer, dns.resolver.NXDOMAIN):
        return Finding("fail", f"no DKIM record at {wanted.name}: {publish}")
    except dns.exception.DNSException as exc:
        return _lookup_failed(wanted.name, exc)
    texts = [b"".join(rdata.strings) for rdata in answer]
    keys = [text for text in texts if b"p=" in text]
    if len(keys) != 1:
        return Finding(
            "fail", f"{wanted.name} has {len(keys)} DKIM records, receivers need one: {publish}"
        )
    try:
        tags = dkim.util.parse_tag_value(keys[0])
    except dkim.util.InvalidTagValueList as exc:
        return Finding("fail", f"the DKIM record at {wanted.name} is not valid ({exc}): {publish}")
    published = tags.get(b"p", b"")
    if not published:
        return Finding("fail", f"the DKIM key at {wanted.name} is revoked (empty p=): {publish}")
    if tags.get(b"k", b"rsa") != b"rsa" or not _same_key(published, dkim_public_key(private_key)):
        return Finding(
            "fail",
            f"the key at {wanted.name} is not the public half of the configured DKIM private "
            f"key (rotated on one side only?), so every signature fails: {publish}",
        )
    if b"y" in tags.get(b"t", b"").split(b":"):
        return Finding(
            "warn",
            f"the DKIM record at {wanted.name} is in test mode (t=y): receivers may ignore "
            "failures; remove t=y",
        )
    return Finding("ok", f"{wanted.name} holds the public half of the configured key")


def _same_key(published: bytes, ours: rsa.RSAPublicKey) -> bool:
    text = b"".join(published.split())
    try:
        theirs = serialization.load_der_public_key(base64.b64decode(text, validate=True))
    except (ValueError, binascii.Error):
        # Some DNS panels hold the bare PKCS#1 key; compare the text as a last resort.
        return text.decode("ascii", "replace") == dkim_key_text(ours)
    return isinstance(theirs, rsa.RSAPublicKey) and theirs.public_numbers() == ours.public_numbers()


def check_dmarc(checkup: Checkup) -> Finding:
    settings = checkup.settings
    domain = domain_of(settings.newsletter.from_address)
    reports = (
        settings.newsletter.owner_address
        or settings.newsletter.reply_to
        or (settings.newsletter.from_address)
    )
    start = dmarc_record(domain, reports)
    _fresh_checkdmarc()
    try:
        result = checkdmarc.dmarc.get_dmarc_record(domain, resolver=checkup.resolver)
    except checkdmarc.dmarc.DMARCError as exc:
        failure = _dns_failure(exc)
        if failure is not None:
            return _lookup_failed(f"_dmarc.{domain}", failure)
        if not isinstance(exc, checkdmarc.dmarc.DMARCRecordNotFound):
            return Finding("fail", f"the DMARC record of {domain} is not valid: {exc}")
        return Finding(
            "fail",
            f"no DMARC record for {domain} (Gmail and Yahoo require one of bulk senders): "
            f'publish TXT {start.name} "{start.value}"',
        )
    tags = result["parsed"]["tags"]
    location = str(result["location"])

    def tag(name: str, default: str) -> str:
        entry = tags.get(name)
        return str(entry["value"]) if entry else default

    policy = tag("sp", tag("p", "none")) if location != domain else tag("p", "none")
    rp_domain = domain_of(return_path(settings))
    spf_aligned = aligned(rp_domain, domain, tag("aspf", "r"))
    dkim_aligned = bool(settings.dkim.domain) and aligned(
        settings.dkim.domain.lower(), domain, tag("adkim", "r")
    )
    if not spf_aligned and not dkim_aligned:
        return Finding(
            "fail",
            f"neither the return path ({rp_domain}) nor a DKIM signature of the newsletter "
            f"aligns with {domain}, so every message fails DMARC: sign with [dkim] domain = "
            f'"{domain}"',
        )
    through = " and ".join(
        name for name, aligned in (("SPF", spf_aligned), ("DKIM", dkim_aligned)) if aligned
    )
    if policy == "none":
        return Finding(
            "warn",
            f"the DMARC policy of {domain} is p=none (monitoring only: forged mail in your "
            "name is delivered too): once the reports show only your own mail, publish "
            "p=quarantine",
        )
    return Finding("ok", f"{location}: p={policy}, aligned through {through}")


def aligned(domain: str, from_domain: str, mode: str) -> bool:
    """DMARC identifier alignment (RFC 7489 3.1): strict is the same name, relaxed the same
    organisational domain."""
    if mode == "s":
        return domain == from_domain
    base = checkdmarc.utils.get_base_domain
    return str(base(domain)) == str(base(from_domain))
