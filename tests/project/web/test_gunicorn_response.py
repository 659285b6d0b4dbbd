"""project/web/gunicorn_response.py: a response reaches the socket in one write, header and body.

Each test parses a real request with gunicorn's parser from one end of a socket pair and answers
it through OneWriteResponse on the same socket, counting the `sendall` calls that carry bytes.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from gunicorn.config import Config
from gunicorn.http.parser import RequestParser

from project.web.gunicorn_response import OneWriteResponse


class CountingSocket:
    """The server's end of the pair, recording each sendall (a write that can be cut off after)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.writes: list[bytes] = []

    def sendall(self, data: bytes) -> None:
        self.writes.append(bytes(data))
        self.sock.sendall(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sock, name)


@contextmanager
def answering(request: bytes) -> Iterator[tuple[OneWriteResponse, CountingSocket, socket.socket]]:
    client, server = socket.socketpair()
    try:
        client.sendall(request)
        cfg = Config()
        req = next(iter(RequestParser(cfg, server, ("127.0.0.1", 1234))))
        counting = CountingSocket(server)
        yield OneWriteResponse(req, counting, cfg), counting, client
    finally:
        client.close()
        server.close()


def received(client: socket.socket) -> bytes:
    client.settimeout(2)
    data = b""
    while chunk := client.recv(65536):
        data += chunk
    return data


GET = b"GET /api/v1/products/ HTTP/1.1\r\nHost: localhost\r\n\r\n"
HEAD = b"HEAD /api/v1/products/ HTTP/1.1\r\nHost: localhost\r\n\r\n"


def test_a_response_with_a_body_leaves_in_one_write():
    body = b'{"next":null,"previous":null,"results":[]}'
    with answering(GET) as (response, sock, client):
        response.start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        response.write(body)
        response.close()
        sock.sock.shutdown(socket.SHUT_WR)

        assert len(sock.writes) == 1
        assert sock.writes[0].startswith(b"HTTP/1.1 200 OK\r\n")
        assert sock.writes[0].endswith(b"\r\n\r\n" + body)
        assert received(client) == sock.writes[0]


def test_a_response_without_body_bytes_still_sends_its_header_at_close():
    with answering(HEAD) as (response, sock, client):
        response.start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "42")])
        response.write(b"")
        response.close()
        sock.sock.shutdown(socket.SHUT_WR)

        assert len(sock.writes) == 1
        assert received(client).startswith(b"HTTP/1.1 200 OK\r\n")


def test_a_chunked_response_sends_its_header_with_the_first_chunk():
    with answering(GET) as (response, sock, client):
        response.start_response("200 OK", [("Content-Type", "text/csv")])
        response.write(b"a,b\r\n")
        response.write(b"1,2\r\n")
        response.close()
        sock.sock.shutdown(socket.SHUT_WR)

        assert sock.writes[0].startswith(b"HTTP/1.1 200 OK\r\n")
        assert b"Transfer-Encoding: chunked" in sock.writes[0]
        assert sock.writes[0].endswith(b"\r\n\r\n5\r\na,b\r\n\r\n")
        assert received(client).endswith(b"5\r\na,b\r\n\r\n5\r\n1,2\r\n\r\n0\r\n\r\n")
