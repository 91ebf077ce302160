"""A proxy on 127.0.0.1 that answers nothing and records every connection: a process given it as
``HTTP(S)_PROXY`` tries every outside request here (every HTTP client we use honours it)."""

from __future__ import annotations

import contextlib
import socket
from typing import Iterator

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


@contextlib.contextmanager
def recording_proxy() -> Iterator[tuple[dict[str, str], list[bytes]]]:
    """The environment that routes a process' requests here, and (filled on exit) the start of each request tried."""
    attempts: list[bytes] = []
    with socket.socket() as proxy:
        proxy.bind(("127.0.0.1", 0))
        proxy.listen(16)
        url = f"http://127.0.0.1:{proxy.getsockname()[1]}"
        yield {**{name: url for name in PROXY_VARIABLES}, "NO_PROXY": "", "no_proxy": ""}, attempts
        proxy.settimeout(1)
        with contextlib.suppress(TimeoutError):
            while True:
                connection, _ = proxy.accept()
                attempts.append(connection.recv(200))
                connection.close()
