"""The one error tree of the package.

Every failure a user can cause or meet derives from :class:`NewsletterError`, so the
doors (CLI, web, scheduler) catch one root and turn it into one line, one page or one
log record::

    NewsletterError
    ├── ConfigError          bad or missing configuration (CLI exit code 2)
    ├── DatabaseError        schema missing/behind, database unreachable
    ├── NotFoundError        a named subscriber, post or edition does not exist
    ├── InputError           bad user input: an address, a CSV file, a command argument
    │   ├── NotAMailError    returned "mail" that is no e-mail message at all
    │   └── UnreadableMessageError  returned mail too big or nested too deep to read
    ├── ContentError         a post that cannot be parsed (names file and line)
    │   └── DraftPostError   a post its author marked as a draft
    ├── RenderError          a post that cannot be turned into an email
    └── DeliveryError        the transport cannot be used (per-message outcomes are
                             ``delivery.attempt.Attempt`` values, not exceptions)
"""

from __future__ import annotations


class NewsletterError(Exception):
    """Root of every error the package raises on purpose."""

    exit_code = 1


class ConfigError(NewsletterError):
    exit_code = 2


class DatabaseError(NewsletterError):
    pass


class NotFoundError(NewsletterError):
    pass


class InputError(NewsletterError):
    pass


class NotAMailError(InputError):
    """The input is not an e-mail message at all (an empty file, a PDF, a CSV...)."""


class UnreadableMessageError(InputError):
    """Mail too big or nested too deep to read: set aside for a person, never retried."""


class ContentError(NewsletterError):
    """A post that cannot be parsed; the message names the source and, where known, the line."""

    def __init__(self, message: str, *, source: str | None = None, line: int | None = None) -> None:
        where = source or ""
        if source and line is not None:
            where = f"{source}:{line}"
        super().__init__(f"{where}: {message}" if where else message)
        self.source = source
        self.line = line


class DraftPostError(ContentError):
    """A post its author marked as a draft: refused by name, passed over in a directory."""


class RenderError(NewsletterError):
    pass


class DeliveryError(NewsletterError):
    pass
