"""The test toolkit: one SMTP test server, one settings factory, one post factory, one secret.

Every test folder takes its servers, settings, posts and database rows from here, so a
change to what a "normal" relay, configuration or post looks like is made once. The
fixtures in :mod:`tests.support.fixtures` are registered for the whole suite by
``tests/conftest.py``; everything else is imported by name.
"""
