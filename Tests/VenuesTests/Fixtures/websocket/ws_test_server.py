#!/usr/bin/env python3
"""A WebSocket server (RFC 6455, Python standard library only) for Venues' WebSocket client tests.

Binds 127.0.0.1 on an ephemeral port and prints `PORT <n>` (Tests/TestSupport/PythonServer.swift). The request
path picks the behaviour; events the tests check (close codes received, pongs) go to stderr, one per line.

  /echo                 echo every text/binary message back as it came (also the tail of the modes below)
  /headers              send the request's headers as one JSON text message, then echo
  /binary-json          send two JSON documents in BINARY frames (Alpaca's trading stream), then echo
  /fragments            a text message in 3 fragments (a UTF-8 character split across two, a ping in between)
                        and a binary message in 2 fragments, then echo
  /ping                 ping with payload "hello"; when the pong comes back, send text "pong:<payload>"
  /server-pings?every=S ping every S seconds, nothing else (answers pongs silently)
  /drop                 send "bye", then close the TCP connection without a close frame
  /close?code=C&reason=R  send "closing", then a close frame (C, R); log the client's reply
  /silent               never send anything (not even pongs)
  /huge?bytes=N[&fragment=M]  send one binary message of N bytes (in M-byte fragments if given), then wait
  /invalid-utf8         send a text frame that is not UTF-8
  /flood?count=N&size=S send N text messages of S bytes ("<i>:xxxx...") as fast as the socket takes them
  /refuse               answer the upgrade with 401 and a JSON body
  /hang                 read the request and never answer

Options: --tls-cert FILE --tls-key FILE serve wss:// instead of ws://.
"""
import argparse
import base64
import hashlib
import json
import os
import socket
import ssl
import struct
import sys
import threading
import time
import urllib.parse

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


class Closed(Exception):
    pass


def recv_exact(sock, n):
    data = bytearray()
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise Closed()
        data += chunk
    return bytes(data)


def send_frame(sock, opcode, payload=b"", fin=True):
    header = bytearray([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        header.append(n)
    elif n < 1 << 16:
        header.append(126)
        header += struct.pack("!H", n)
    else:
        header.append(127)
        header += struct.pack("!Q", n)
    sock.sendall(bytes(header) + payload)


def read_frame(sock):
    """One frame from the client: (fin, opcode, payload). Client frames must be masked."""
    b0, b1 = recv_exact(sock, 2)
    fin, opcode = bool(b0 & 0x80), b0 & 0x0F
    if not b1 & 0x80:
        log("protocol: unmasked client frame")
        raise Closed()
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", recv_exact(sock, 2))[0]
    elif n == 127:
        n = struct.unpack("!Q", recv_exact(sock, 8))[0]
    mask = recv_exact(sock, 4)
    payload = bytearray(recv_exact(sock, n))
    for i in range(n):
        payload[i] ^= mask[i % 4]
    return fin, opcode, bytes(payload)


def read_message(sock, on_pong=None):
    """The next data message (opcode, payload), answering pings; None when the client sent a close frame."""
    parts, first_opcode = [], None
    while True:
        fin, opcode, payload = read_frame(sock)
        if opcode == OP_PING:
            send_frame(sock, OP_PONG, payload)
            continue
        if opcode == OP_PONG:
            if on_pong:
                on_pong(payload)
            continue
        if opcode == OP_CLOSE:
            code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
            log(f"close {code} {payload[2:].decode('utf-8', 'replace')}")
            try:
                send_frame(sock, OP_CLOSE, payload[:2])
            except OSError:
                pass
            return None
        if opcode in (OP_TEXT, OP_BINARY):
            first_opcode, parts = opcode, [payload]
        elif opcode == OP_CONT:
            parts.append(payload)
        if fin:
            return first_opcode, b"".join(parts)


def echo(sock):
    while True:
        message = read_message(sock)
        if message is None:
            return
        send_frame(sock, message[0], message[1])


def handshake(sock):
    """Reads the upgrade request; returns (path, query, headers) or None after answering an error."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk or len(data) > 65536:
            raise Closed()
        data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    lines = head.split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    url = urllib.parse.urlsplit(target)
    return method, url.path, urllib.parse.parse_qs(url.query), headers


def accept(sock, headers):
    key = headers.get("sec-websocket-key", "")
    digest = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
    sock.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Accept: {digest}\r\n\r\n").encode())


def serve(sock):
    method, path, query, headers = handshake(sock)
    log(f"handshake {path}")
    one = lambda name, default: query.get(name, [default])[0]
    if path == "/refuse":
        body = b'{"code":40110000,"message":"request is not authorized"}'
        sock.sendall(b"HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\n"
                     b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
        return
    if path == "/hang":
        time.sleep(30)
        return
    if headers.get("upgrade", "").lower() != "websocket" or "sec-websocket-key" not in headers:
        sock.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        return
    accept(sock, headers)
    if path == "/echo":
        echo(sock)
    elif path == "/headers":
        send_frame(sock, OP_TEXT, json.dumps({"path": path, "query": query, "headers": headers}).encode())
        echo(sock)
    elif path == "/binary-json":
        send_frame(sock, OP_BINARY, b'{"stream":"authorization","data":{"status":"authorized","action":"authenticate"}}')
        send_frame(sock, OP_BINARY, b'{"stream":"listening","data":{"streams":["trade_updates"]}}')
        echo(sock)
    elif path == "/fragments":
        text = "price \u20ac 1.0842 \u2014 ok".encode()          # the euro sign is 3 bytes: E2 82 AC
        cut = text.index(b"\xe2") + 1                              # split inside it
        send_frame(sock, OP_TEXT, text[:cut], fin=False)
        send_frame(sock, OP_PING, b"between")
        send_frame(sock, OP_CONT, text[cut:cut + 2], fin=False)
        send_frame(sock, OP_CONT, text[cut + 2:], fin=True)
        send_frame(sock, OP_BINARY, bytes(range(0, 100)), fin=False)
        send_frame(sock, OP_CONT, bytes(range(100, 256)), fin=True)
        echo(sock)
    elif path == "/ping":
        send_frame(sock, OP_PING, b"hello")

        def pong(payload):
            log(f"pong {payload.decode('utf-8', 'replace')}")
            send_frame(sock, OP_TEXT, b"pong:" + payload)
        while read_message(sock, on_pong=pong) is not None:
            pass
    elif path == "/server-pings":
        every = float(one("every", "0.1"))
        sock.settimeout(every)
        while True:
            send_frame(sock, OP_PING, b"")
            try:
                if read_message(sock) is None:
                    return
            except socket.timeout:
                pass
    elif path == "/drop":
        send_frame(sock, OP_TEXT, b"bye")
        time.sleep(0.05)
        sock.shutdown(socket.SHUT_RDWR)
    elif path == "/close":
        code, reason = int(one("code", "1000")), one("reason", "")
        send_frame(sock, OP_TEXT, b"closing")
        send_frame(sock, OP_CLOSE, struct.pack("!H", code) + reason.encode())
        sock.settimeout(5)
        try:
            while True:
                fin, opcode, payload = read_frame(sock)
                if opcode == OP_CLOSE:
                    log(f"close-reply {struct.unpack('!H', payload[:2])[0] if len(payload) >= 2 else 1005}")
                    return
        except (Closed, OSError):
            return
    elif path == "/silent":
        while True:
            fin, opcode, payload = read_frame(sock)
            if opcode == OP_CLOSE:
                log("close (silent)")
                return
    elif path == "/huge":
        n, fragment = int(one("bytes", "2000000")), int(one("fragment", "0"))
        payload = bytes(i % 251 for i in range(n))
        if fragment:
            parts = [payload[i:i + fragment] for i in range(0, n, fragment)]
            for i, part in enumerate(parts):
                send_frame(sock, OP_BINARY if i == 0 else OP_CONT, part, fin=i == len(parts) - 1)
        else:
            send_frame(sock, OP_BINARY, payload)
        sock.settimeout(10)
        while read_message(sock) is not None:
            pass
    elif path == "/invalid-utf8":
        send_frame(sock, OP_TEXT, b"bad \xff\xfe text")
        sock.settimeout(10)
        while read_message(sock) is not None:
            pass
    elif path == "/flood":
        count, size = int(one("count", "1000")), int(one("size", "100"))
        for i in range(count):
            head = f"{i}:".encode()
            send_frame(sock, OP_TEXT, head + b"x" * max(0, size - len(head)))
        log(f"flood sent {count}")
        echo(sock)
    else:
        send_frame(sock, OP_CLOSE, struct.pack("!H", 1008) + b"unknown path")


def handle(conn, tls):
    try:
        if tls:
            conn = tls.wrap_socket(conn, server_side=True)
        serve(conn)
    except (Closed, ConnectionError, ssl.SSLError, OSError) as error:
        if not isinstance(error, Closed):
            log(f"connection: {type(error).__name__}: {error}")
    finally:
        try:
            conn.close()
        except OSError:
            pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    args = parser.parse_args()
    tls = None
    if args.tls_cert:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(args.tls_cert, args.tls_key)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    print(f"PORT {listener.getsockname()[1]}", flush=True)
    # The test runner may start us with SIGTERM blocked: it kills us with SIGKILL; die with our parent too.
    parent = os.getppid()

    def watch_parent():
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)
    threading.Thread(target=watch_parent, daemon=True).start()
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=handle, args=(conn, tls), daemon=True).start()


if __name__ == "__main__":
    main()
