"""Peak memory of ``newsletter posts fetch`` against compression bombs.

    .venv/bin/python bench/feed_bomb.py [--gibibytes 1]

Three answers from a standard-library HTTP server on 127.0.0.1: a small plain feed, a gzip
of ``--gibibytes`` GiB of zeros (``Content-Encoding: gzip``) and that gzip packed once
more (``gzip, gzip``). Each is fetched by ``newsletter posts fetch`` in a child process
with a fresh SQLite database; the peak RSS is the child's ``ru_maxrss`` from ``wait4``.
The child runs under a 2 GiB address-space limit, so a fetch that does not stop fails
with a MemoryError instead of taking the machine's memory.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ADDRESS_SPACE_LIMIT = 2 * 1024**3
FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Bench</title></channel></rss>'


def gzip_of_zeros(gibibytes: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    megabyte = bytes(1024 * 1024)
    parts = [packer.compress(megabyte) for _ in range(gibibytes * 1024)]
    return b"".join([*parts, packer.flush()])


def serve(answers: dict[str, tuple[bytes, str | None]]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            body, encoding = answers[self.path]
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            if encoding:
                self.send_header("Content-Encoding", encoding)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            # The client may stop reading: that is the fix at work.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def fetch(url: str, folder: Path) -> tuple[int, int, str]:
    """Exit status, peak RSS in MiB and the last line on stderr of one ``posts fetch``."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_LIMIT, ADDRESS_SPACE_LIMIT))

    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    env |= {
        "NEWSLETTER_DATABASE__URL": f"sqlite:///{folder}/bench.db",
        "NEWSLETTER_POSTS__FEEDS": json.dumps([url]),
    }
    errors = folder / "stderr"
    with errors.open("w") as stream:
        child = subprocess.Popen(
            [str(Path(sys.executable).with_name("newsletter")), "posts", "fetch"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stream,
            preexec_fn=limit,
        )
        # wait4, not wait: it returns the resource usage of exactly this child.
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
    lines = errors.read_text().splitlines()
    return child.returncode, usage.ru_maxrss // 1024, lines[-1] if lines else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gibibytes", type=int, default=1)
    args = parser.parse_args(argv)
    bomb = gzip_of_zeros(args.gibibytes)
    answers = {
        "/plain": (FEED, None),
        "/gzip": (bomb, "gzip"),
        "/gzip-of-gzip": (gzip.compress(bomb), "gzip, gzip"),
    }
    server = serve(answers)
    print(f"{'answer':<14} {'bytes sent':>11} {'exit':>4} {'peak RSS':>9}  last line on stderr")
    try:
        for path, (body, _) in answers.items():
            with tempfile.TemporaryDirectory() as folder:
                url = f"http://127.0.0.1:{server.server_address[1]}{path}"
                status, peak, line = fetch(url, Path(folder))
            print(f"{path[1:]:<14} {len(body):>11,} {status:>4} {peak:>5} MiB  {line[:120]}")
    finally:
        server.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
