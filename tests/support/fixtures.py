"""The toolkit's fixtures, registered for the whole suite by ``tests/conftest.py``.

A plugin rather than a conftest of one folder: the delivery, runtime and web tests
all need a test relay, and no folder's conftest imports another's; the same goes for
the daemon processes of :mod:`.daemons`.
"""

from __future__ import annotations

import base64
import ssl
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import trustme
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from newsletter.db.database import Database
from newsletter.db.models import utcnow

from .daemons import DaemonRunner, RunnerFactory
from .dovecot import Dovecot, running_dovecot
from .feeds import FeedServer
from .history import History, seed_history
from .leaks import Snapshot, leaked
from .smtp import Faults, SmtpServer


@pytest.fixture(autouse=True)
def no_leaks() -> Iterator[None]:
    """Fail a test that leaves a thread, a socket or a checked-out database connection.

    Autouse and function-scoped, so it is set up before and torn down after every
    function-scoped fixture of the test: what those fixtures open counts as the test's,
    while module and session fixtures (a browser, a dovecot) are open already at the
    snapshot and count as nobody's.
    """
    before = Snapshot.take()
    yield
    found = leaked(before)
    if found:
        pytest.fail("the test leaked:\n" + "\n".join(found), pytrace=False)


@pytest.fixture
def faults() -> Faults:
    """The faults of ``smtp_server``; none unless the test (or a fixture) sets some."""
    return Faults()


@pytest.fixture
def smtp_server(faults: Faults) -> Iterator[SmtpServer]:
    with SmtpServer(faults) as server:
        yield server


@pytest.fixture
def history(database: Database) -> History:
    """The seeded history of :mod:`.history`: 20 weekly editions up to now."""
    return seed_history(database, utcnow())


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """A blog's web server on loopback: tests put feeds (good and broken) on its routes."""
    server = FeedServer().start()
    yield server
    server.stop()


@pytest.fixture
def runner_factory(tmp_path: Path) -> Iterator[RunnerFactory]:
    """Make a :class:`DaemonRunner`; every process it started is gone after the test."""
    runners: list[DaemonRunner] = []

    def make(database_url: str, smtp_port: int, **options: Any) -> DaemonRunner:
        workdir = tmp_path / f"daemon-{len(runners) + 1}"
        workdir.mkdir()
        runner = DaemonRunner(workdir, database_url, smtp_port, **options)
        runners.append(runner)
        return runner

    yield make
    for runner in runners:
        runner.kill_all()


@pytest.fixture(scope="module")
def test_ca() -> trustme.CA:
    """A certificate authority made for the test, trusted only through ``smtp.ca_file``."""
    return trustme.CA()


@pytest.fixture(scope="module")
def server_tls(test_ca: trustme.CA) -> ssl.SSLContext:
    """The relay's TLS context: a certificate for 127.0.0.1 issued by ``test_ca``."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    test_ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


@pytest.fixture
def ca_file(test_ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "relay-ca.pem"
    test_ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    # Not under pytest's tmp_path: dovecot runs as nobody when the tests run as root, and
    # pytest's folders are private to their owner.
    with (
        tempfile.TemporaryDirectory(prefix="newsletter-dovecot-") as folder,
        running_dovecot(Path(folder)) as server,
    ):
        yield server


@dataclass(frozen=True)
class DkimKey:
    """A DKIM key pair: the private key as ``[dkim]`` takes it, the public one as DNS has it."""

    private_pem: str
    record: bytes

    def dns(self, name: bytes, timeout: int = 5) -> bytes:
        """dkimpy's ``dnsfunc``: the record, whatever selector and domain it asks for."""
        return self.record


@pytest.fixture(scope="session")
def dkim_key() -> DkimKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    public_der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return DkimKey(private_pem, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public_der))
