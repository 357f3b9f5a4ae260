"""The web door: subscriber pages (unsubscribe, sign-up, archive) and ``/healthz``."""

from newsletter.web.app import create_app

__all__ = ["create_app"]
