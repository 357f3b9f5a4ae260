"""The web door: subscriber pages (unsubscribe, sign-up, archive) and ``/healthz``.

:func:`~.app.create_app` in ``app`` makes the Starlette application; nothing is
re-exported here, so importing one module of the package does not load Starlette.
"""
