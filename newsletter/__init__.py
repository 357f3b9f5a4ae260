"""Gerrit's weekly newsletter.

Data flows content -> render -> message -> delivery; the CLI, scheduler and web app are
thin doors onto that core.
"""

__version__ = "0.1.0"
