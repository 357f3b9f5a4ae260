"""runtime/servers: a web port that is taken stops the process before any work is done."""

from __future__ import annotations

import socket

import pytest

from newsletter.errors import ConfigError
from newsletter.runtime.servers import ensure_web_port_free
from tests.support.settings import make_settings
from tests.support.system import free_port


def test_a_taken_web_port_is_refused_naming_the_setting_to_change() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = int(taken.getsockname()[1])
        settings = make_settings(web={"host": "127.0.0.1", "port": port})
        with pytest.raises(ConfigError) as refused:
            ensure_web_port_free(settings)
    message = str(refused.value)
    assert message.startswith(f"web.port {port} on 127.0.0.1 is not available (Address already")
    assert message.endswith("; choose another with NEWSLETTER_WEB__PORT")


def test_a_free_web_port_passes_and_is_left_free() -> None:
    port = free_port()
    ensure_web_port_free(make_settings(web={"host": "127.0.0.1", "port": port}))
    with socket.create_server(("127.0.0.1", port)):
        pass
