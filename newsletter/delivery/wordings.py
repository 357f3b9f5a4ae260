"""The words mail servers use for why they refused, by cause, as regular expressions.

Kept apart from :mod:`newsletter.delivery.replies`, which decides with them, because this
is the part that grows: each new wording seen in the wild is one more pattern here. The
patterns are our own, written from the systems' documentation and published bounces
(Postfix, Exim, Sendmail, qmail, Exchange and Office 365, Gmail, Yahoo, Outlook.com, GMX,
Orange, Mimecast, Proofpoint, Barracuda, Trend Micro, the Japanese carriers), in English,
German, French, Dutch and Japanese. Each table is a list of (reason, pattern) tried in
order; the order within a table is part of the rule (see the comments).
"""

from __future__ import annotations

import re

Wordings = tuple[tuple[str, re.Pattern[str]], ...]


def _words(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(patterns), re.IGNORECASE)


# Tier 1: our side, named outright. Checked in this order: "spamhaus" is a blocklist
# before it is spam; "account blocked" is the reader's suspended account, not us blocked.
SUSPENDED = _words(
    r"(?:account|mailbox|postfach|konto|compte|boîte|boite|postvak)\W+"
    r"(?:\w+\W+){0,2}(?:is\W+|has\s+been\W+|ist\W+|est\W+|wurde\W+|werd\W+)?"
    r"(?:disabled|deactivated|inactive|suspended|locked|frozen|on\s+hold|"
    r"deaktiviert|désactivée?|suspendue?|gedeactiveerd|inactief)",
    r"(?:account|konto|compte)\W+(?:\w+\W+){0,2}(?:blocked|gesperrt|bloquée?|geblokkeerd)",
    r"\b(?:disabled|inactive|suspended|locked|frozen)\W+(?:account|mailbox|user)",
    r"mailbox is disabled|account (?:has been )?(?:disabled|suspended|closed for inactivity)",
    r"over\s*quota.*suspend|\(554\.30\)|利用停止|停止されて",
)
SENDER_NAMED: Wordings = (
    (
        "policy",  # a filter's own block reason: the recipient's or their admin's rule
        _words(
            r"for\s+one\s+or\s+more\s+recipients\s+\([^)]*:blocked\)",
            r"anti-?spoofing",
            r"\bhelo\b|\behlo\b",  # our greeting refused: our host name, not the address
            r"reception\s+settings|受信拒否|受信設定|指定受信",
            # Postfix's check_recipient_access; Exchange Online says the same of an
            # address missing from its directory (5.4.1, AS(...), protection.outlook.com)
            r"(?<!4\.1\s)recipient\s+address\s+rejected:\s+access\s+denied"
            r"(?![^\n]*(?:AS\(\d|protection\.outlook))",
        ),
    ),
    (
        "norelaying",
        _words(
            r"relay(?:ing)?\s+(?:access\s+)?(?:denied|not\s+(?:permitted|allowed))",
            r"(?:unable|not\s+permitted|not\s+allowed|we\s+do\s+not)\s+to\s+relay|no\s+relaying",
            r"\brelay(?:ing)?\s+(?:is\s+)?(?:prohibited|refused)|open\s+relay\s+not\s+allowed",
        ),
    ),
    (
        "tlsrequired",
        _words(
            r"starttls",
            r"\btls\s+(?:is\s+)?(?:required|mandatory|needed)",
            r"(?:requires?|must\s+use)\s+(?:tls|encryption)",
            r"encryption\s+(?:is\s+)?required",
        ),
    ),
    (
        "authfailure",
        _words(
            r"\bspf\b",
            r"\bdkim\b",
            r"\bdmarc\b",
            r"sender\s+policy\s+framework",
            r"unauthenticated",
            r"not\s+authenticated",
            r"authentication\s+(?:is\s+)?required",
            r"(?:fails?|failed)\s+(?:the\s+)?authentication",
            r"authentication\s+(?:check\s+)?fail",
            r"sender\s+(?:address\s+)?verif\w*\s+failed",
            r"nicht\s+authentifiziert",
            r"non\s+authentifié",
            r"niet\s+geauthenticeerd",
        ),
    ),
    (
        "reversedns",
        _words(
            r"\bptr\b",
            r"reverse\s*(?:dns|lookup|hostname|name|mapping)",
            r"\brdns\b",
            r"cannot\s+find\s+your\s+(?:reverse\s+)?hostname",
            r"no\s+reverse",
            r"(?:ip|address)\s+name\s+(?:lookup|possibly)\s+(?:failed|forged)",
            r"逆引き",
        ),
    ),
    (
        "virus",
        _words(
            r"\bvirus",
            r"malware",
            r"\binfected",
            r"trojan",
            r"malicious",
            r"potential\s+security\s+issue",
            r"ウイルス",
        ),
    ),
    (
        "ratelimited",
        _words(
            r"rate\s*-?limit",
            r"\brate\s+(?:of|that|too)",
            r"unusual\s+rate",
            r"too\s+many\s+(?!hops|received)",
            r"server\s+busy",
            r"throttl",
            r"slow\s+down",
            r"temporarily\s+deferred",
            r"sending\s+limit",
            r"(?:connection|message|recipient)s?\s+limit",
            r"limit\s+exceeded.*(?:hour|minute|day)",
            r"max(?:imum)?\s+(?:e-?mails|messages)\s+per\s+(?:hour|day|minute)",
            r"zu\s+viele",
            r"trop\s+de\s+(?:connexions|messages|destinataires)",
            r"te\s+veel",
        ),
    ),
    (
        "blocked",
        _words(
            r"spamhaus",
            r"barracuda",
            r"spamcop",
            r"\bsorbs\b",
            r"uceprotect",
            r"spamrats",
            r"\bpsbl\b",
            r"\bdnsbl\b",
            r"\brbl\b",
            r"\bsurbl\b",
            r"\bcbl\b",
            r"mailspike",
            r"block\s*-?list",
            r"black\s*-?list",
            r"deny\s*-?list",
            r"liste\s+noire|listée?\s+sur|schwarze\s+liste|zwarte\s+lijst|ブラックリスト",
            r"(?<!not\s)\blisted\s+(?:on|in|at|by)\b",
            r"\bis\s+listed",
            r"not\s+accepted\s+from\s+(?:this|your)\s+ip",
            r"reputation",
            r"banned\s+send",
            r"client\s+host\s+(?:\[[^\]]*\]\s+)?rejected",
            r"ipcheck\.proofpoint|sender\.office\.com|postmaster\.live\.com|\bS3140\b",
            r"\bSC-00[1-4]\b|\bTSS0[5-9]\b|ers\.trendmicro",
        ),
    ),
    (
        "spam",
        _words(
            r"\bspam\b",
            r"spam\s*(?:score|filter|detected|content)",
            r"unsolicited",
            r"\bjunk",
            r"bulk\s+mail",
            r"spamassassin",
            r"\bUBE\b",
            r"looks\s+like\s+spam",
            r"considered\s+(?:as\s+)?spam",
            r"indésirable",
        ),
    ),
    ("blocked", _words(r"blocked|gesperrt|bloqué|geblokkeerd|ブロック")),
    (
        "policy",
        _words(
            r"sender\s+(?:address\s+)?(?:rejected|refused|denied|invalid|unknown|verif)",
            r"invalid\s+sender|(?:unknown|bad)\s+sender|absender|expéditeur|afzender",
        ),
    ),
)
# A queue that gave up: also the cause behind a 4.4.x code that kept failing.
EXPIRED = _words(
    r"delivery\s+time\s+expired",
    r"retry\s+(?:timeout|time)\s+(?:exceeded|not\s+reached)",
    r"gave\s+up",
    r"giving\s+up(?!\s+on\s+\[?\d)",
    r"(?:message|delivery)\s+(?:has\s+)?expired",
    r"too\s+long\s+in\s+(?:the\s+)?queue|in\s+the\s+queue\s+too\s+long",
    r"expired\s+after",
    r"could\s+not\s+be\s+delivered\s+within",
    r"delivery\s+(?:period|timeout)",
    r"message\s+timeout|delivered\s+within|一定時間内に配信できな",
    r"zustellzeit|délai\s+(?:de\s+\w+\s+)?(?:expiré|dépassé)|expir[ée]|verlopen",
    r"配送期限|有効期限",
)
# Tier 2: the reader's side for now.
SOFT_NAMED: Wordings = (
    # Greylisting (often 4.7.1): the reader's server asks every stranger to come back; a
    # mail loop ("too many Received: headers") is their routing, not our content.
    ("systemerror", _words(r"gr[ae]y-?list|too\s+many\s+(?:hops|received)|loops?\s+back")),
    (
        "mailboxfull",
        _words(
            r"(?:mailbox|mail\s*box|inbox|account|mailfolder|postfach|postvak|boîte|boite)"
            r"\W+(?:\w+\W+){0,3}(?:is\s+|ist\s+|est\s+)?(?:full|voll|vol|pleine?)\b",
            r"over\s*quota|quota\s+(?:exceeded|exceed|full)|exceeded\s+(?:\w+\s+)?(?:storage|quota)",
            r"insufficient\s+(?:storage|disk\s+space)|disk\s+quota|storage\s+(?:allocation|limit)",
            r"out\s+of\s+(?:storage|space)|not\s+enough\s+space|no\s+space\s+left",
            r"speicherplatz|kontingent|quota\s+(?:überschritten|dépassé|overschreden)",
            r"espace\s+(?:disque\s+)?insuffisant|pleine|容量|いっぱい|一杯|満杯",
        ),
    ),
    (
        "toobig",
        _words(
            r"(?:message|mail)\s+(?:\w+\s+){0,2}(?:too\s+(?:large|big)|exceeds?)",
            r"size\s+(?:limit|exceeds?)|exceeds?\s+(?:the\s+)?(?:\w+\s+)?size",
            r"too\s+(?:large|big)",
            r"zu\s+groß|trop\s+(?:volumineux|gros)|te\s+groot|サイズ",
        ),
    ),
    ("expired", EXPIRED),
)
# Tier 3: the address is gone. Exchange Online's directory-based refusal (``5.4.1 ...
# Access denied. AS(2018...)``) is an unknown recipient despite its words.
HARD_NAMED: Wordings = (
    ("hasmoved", _words(r"has\s+moved|address\s+(?:has\s+)?changed|no\s+longer\s+(?:at|with)")),
    (
        "hostunknown",
        _words(
            r"host\s+(?:or\s+domain\s+name\s+)?(?:not\s+found|unknown)",
            r"unknown\s+host",
            r"domain\s+(?:name\s+)?(?:not\s+found|unknown|does\s+not\s+exist|doesn't\s+exist)",
            r"no\s+such\s+(?:domain|host)",
            r"unknown\s+domain",
            r"unrouteable\s+(?:address|domain)",
            r"null\s*mx",
            r"does\s+not\s+accept\s+(?:e-?)?mail",
            r"no\s+mx\s+record",
            r"name\s+or\s+service\s+not\s+known|nxdomain|mx\s+(?:records?\s+)?point\s+to\s+non",
            r"domain\s+(?:nicht\s+gefunden|existiert\s+nicht)|domaine?\s+(?:inconnu|introuvable|inexistant)",
            r"domein\s+(?:bestaat\s+niet|onbekend|niet\s+gevonden)|(?:ドメイン|ホスト)が(?:存在|見つかり)",
        ),
    ),
    (
        "userunknown",
        _words(
            r"(?:user|recipient|addressee|mailbox|account|address|local\s+part)\s+"
            r"(?:(?!temporar)\w+\s+)?"
            r"(?:unknown|not\s+found|not\s+exist|does\s*n[o']t\s+exist|invalid|unavailable)",
            r"unknown\s+(?:user|recipient|mailbox|address|local|account)",
            r"no\s+such\s+(?:user|recipient|mailbox|account|address|person)",
            r"(?:invalid|bad|illegal)\s+(?:\w+\s+)?(?:recipient|mailbox|address|user)",
            r"recipient\s+(?:address\s+)?rejected",
            r"address\s+rejected",
            r"(?:doesn't|does\s+not)\s+have\s+an?\s+\S+\s+account",
            r"not\s+a\s+(?:valid|known)\s+(?:user|mailbox|recipient)",
            r"(?:account|address|mailbox|user)\s+(?:that\s+you\s+tried\s+to\s+reach\s+)?(?:does\s+not|doesn't)\s+exist",
            r"no\s+mailbox\s+here|no\s+longer\s+accepts\s+mail",
            r"not\s+listed\s+in\s+(?:the\s+)?(?:domino\s+|public\s+)?(?:directory|address\s+book)",
            r"recip(?:ient)?notfound",
            r"couldn't\s+be\s+found|wasn't\s+found\s+at",
            r"AS\(2018\d+\)",
            r"user\s+doesn't\s+exist|unknown\s+or\s+illegal\s+alias",
            r"benutzer\s+unbekannt|unbekannte[rn]?\s+(?:benutzer|empfänger|empfaenger)",
            r"empf(?:ä|ae)nger\s+(?:ist\s+)?unbekannt|existiert\s+nicht|nicht\s+gefunden|ungültige",
            r"utilisateur\s+inconnu|destinataire\s+(?:inconnu|invalide)|adresse\s+(?:\w+\s+)?(?:inconnue|invalide|introuvable)",
            r"n'existe\s+pas|inexistant|introuvable",
            r"(?:onbekende|ongeldige?)\s+(?:gebruiker|ontvanger|adres|e-mailadres)",
            r"(?:gebruiker|ontvanger|adres)\s+(?:is\s+)?onbekend|bestaat\s+niet|niet\s+gevonden",
            r"存在しません|存在しない|宛先不明|見つかりません|不明なユーザ|該当ユーザ",
        ),
    ),
)
# Tier 4: refusals that name no cause we can tell more precisely.
SENDER_VAGUE: Wordings = (
    (
        "contentrejected",
        _words(
            r"content\s+(?:rejected|refused|not\s+allowed|filter)",
            r"attachment",
            r"header",
            r"line\s+too\s+long|bare\s+lf|8-?bit",
        ),
    ),
    (
        "policy",
        _words(
            r"polic(?:y|ies)",
            r"(?<!connection\s)refused",
            r"denied",
            r"not\s+(?:allowed|permitted)",
            r"prohibited",
            r"not\s+authori[sz]ed",
            r"administrative",
            r"verweigert",
            r"refusé|interdit|geweigerd|niet\s+toegestaan|拒否",
        ),
    ),
)
# Tier 5: trouble on the way or at the other end.
SOFT_VAGUE: Wordings = (
    (
        "networkerror",
        _words(
            r"timed?\s*-?\s*out",
            r"connection\s+(?:refused|reset|lost|closed|dropped)",
            r"lost\s+connection",
            r"no\s+(?:valid\s+)?route(?!\s+found\s+to\s+domain)|unreachable|not\s+reachable|no\s+answer|network",
            r"zeitüberschreitung",
        ),
    ),
    (
        "systemerror",
        _words(
            r"temporar",
            r"try\s+(?:again\s+)?later",
            r"server\s+error|internal\s+error|local\s+error",
            r"system\s+(?:error|problem)|service\s+(?:unavailable|not\s+available)",
            r"resources|loop|no\s+route\s+found\s+to\s+domain",
            r"vorübergehend|temporaire|tijdelijk|一時的",
        ),
    ),
)
