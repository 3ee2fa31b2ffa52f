"""A minimal asyncio HTTP/1.0 client: hundreds of concurrent requests in one process.

One connection per request, closed by the server after its answer, so no
pool, no keep-alive and no dependency. Used by the waiter load test and by
`bench/waiters.py`.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any


async def request(host: str, port: int, method: str, path: str, *, token: str | None = None,
                  body: Any = None) -> tuple[int, Any]:
    """(status, decoded JSON body, or the raw text if it is not JSON)."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        data = b"" if body is None else json.dumps(body).encode()
        head = [f"{method} {path} HTTP/1.0", f"Host: {host}:{port}", f"Content-Length: {len(data)}"]
        if token:
            head.append(f"Authorization: Bearer {token}")
        if body is not None:
            head.append("Content-Type: application/json")
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + data)
        await writer.drain()
        raw = await reader.read()
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except OSError:
            pass
    header, _, payload = raw.partition(b"\r\n\r\n")
    status = int(header.split(b" ", 2)[1])
    try:
        return status, json.loads(payload)
    except ValueError:
        return status, payload.decode(errors="replace")
