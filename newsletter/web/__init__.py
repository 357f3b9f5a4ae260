"""The web door: subscriber pages (unsubscribe, sign-up, archive) and the mailto listener."""

from .app import create_app
from .confirmation import ConfirmationMailer

__all__ = ["ConfirmationMailer", "create_app"]
