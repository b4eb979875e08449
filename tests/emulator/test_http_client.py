"""The dispatch HTTP client against scripted raw servers: framing, keep-alive, stale connections."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from cloudtasks_emulator.http_client import HttpClient, HttpError

Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[None]]


async def serve(script: Script) -> tuple[asyncio.Server, str, list[int]]:
    """Run ``script(reader, writer, connection_number)`` per connection; returns the base URL."""
    connections: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(len(connections))
        try:
            await script(reader, writer, len(connections) - 1)
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}", connections


async def read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return head, await reader.readexactly(length)


def run(coroutine: Awaitable[None]) -> None:
    asyncio.run(asyncio.wait_for(coroutine, 5))  # type: ignore[arg-type]


def test_chunked_response_keeps_the_connection_alive() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, number: int) -> None:
        for _ in range(2):
            await read_request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
            await writer.drain()

    async def main() -> None:
        server, url, connections = await serve(script)
        client = HttpClient()
        for _ in range(2):
            assert (await client.request("POST", url + "/x", {}, b"{}")).status == 200
        assert connections == [0]
        client.close()
        server.close()

    run(main())


def test_request_carries_host_target_headers_and_body() -> None:
    seen: list[tuple[bytes, bytes]] = []

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, number: int) -> None:
        seen.append(await read_request(reader))
        writer.write(b"HTTP/1.1 429 Too Many\r\nRetry-After: 3\r\nContent-Length: 2\r\n\r\nno")
        await writer.drain()

    async def main() -> None:
        server, url, _ = await serve(script)
        client = HttpClient()
        response = await client.request("PUT", url + "/a/b?c=d", {"X-One": "1"}, b"payload")
        assert (response.status, response.headers["retry-after"]) == (429, "3")
        head, body = seen[0]
        assert head.startswith(b"PUT /a/b?c=d HTTP/1.1\r\n")
        assert f"Host: {url.removeprefix('http://')}".encode() in head and b"X-One: 1" in head
        assert body == b"payload"
        client.close()
        server.close()

    run(main())


def test_body_delimited_by_close_and_interim_responses() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, number: int) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 503 Busy\r\n\r\nuntil close")
        await writer.drain()

    async def main() -> None:
        server, url, connections = await serve(script)
        client = HttpClient()
        assert (await client.request("GET", url, {}, b"")).status == 503
        assert (await client.request("GET", url, {}, b"")).status == 503
        assert connections == [0, 1]  # not reused after a close-delimited body
        client.close()
        server.close()

    run(main())


def test_idle_connection_closed_by_the_server_is_replaced_transparently() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, number: int) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        if number == 0:
            await reader.read(1)  # swallow the next request and hang up without answering

    async def main() -> None:
        server, url, connections = await serve(script)
        client = HttpClient()
        assert (await client.request("POST", url, {}, b"1")).status == 200
        assert (await client.request("POST", url, {}, b"2")).status == 200
        assert connections == [0, 1]
        client.close()
        server.close()

    run(main())


def test_refused_connection_and_garbage_are_errors() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, number: int) -> None:
        await read_request(reader)
        writer.write(b"SMTP ready\r\n\r\n")
        await writer.drain()

    async def main() -> None:
        server, url, _ = await serve(script)
        client = HttpClient()
        with pytest.raises(HttpError):
            await client.request("GET", url, {}, b"")
        server.close()
        await server.wait_closed()
        with pytest.raises(HttpError):
            await client.request("GET", url, {}, b"")
        client.close()

    run(main())
