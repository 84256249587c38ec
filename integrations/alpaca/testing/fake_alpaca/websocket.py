"""An RFC 6455 websocket server connection on the standard library (what the fake's two streams run on).

Reading happens on the connection's own thread (`receive`), writing on a writer thread fed by a bounded queue, so
sends never block the book and frames of one connection never interleave. The reader accepts masked client
frames only, fragmented messages (continuation frames), pings (answered with a pong carrying the same payload),
pongs and the close handshake; a message over `max_message` bytes is refused with close code 1009, a protocol
error with 1002, text that is not UTF-8 with 1007. The stream-drop faults end a connection without a close frame:
`drop()` once what is queued is sent (FIN), `abort()` at once with a TCP reset (SO_LINGER 0; the peer may lose
what it had not read yet).

    key = "dGhlIHNhbXBsZSBub25jZQ=="            # the RFC's example
    accept_key(key) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
"""
import base64
import hashlib
import queue
import socket
import struct
import threading
import time

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
MAX_MESSAGE = 64 * 1024
QUEUE_FRAMES = 4096
SEND_TIMEOUT_S = 20
_CUT = b""                       # writer-queue marker: end the connection here (see drop)


def accept_key(key):
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def encode_frame(opcode, payload, fin=True):
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([n])
    elif n < 1 << 16:
        head += bytes([126]) + struct.pack("!H", n)
    else:
        head += bytes([127]) + struct.pack("!Q", n)
    return head + payload


class Closed(Exception):
    """The connection is over (closed by either side, aborted, or broken)."""


class ServerWebSocket:
    def __init__(self, sock, rfile, name, max_message=MAX_MESSAGE):
        self.sock, self.rfile, self.name = sock, rfile, name
        self.max_message = max_message
        self.out = queue.Queue(QUEUE_FRAMES)
        self.closed = threading.Event()
        self.aborted = False
        self.close_sent = False
        self.closing_since = None
        self.last_heard = time.monotonic()
        self.sent_messages = 0
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("ll", SEND_TIMEOUT_S, 0))
        except OSError:
            pass
        self.writer = threading.Thread(target=self._write_loop, name=f"ws-writer-{name}", daemon=True)
        self.writer.start()

    # --- writing -------------------------------------------------------------------------------------------
    def _enqueue(self, frame):
        if self.closed.is_set():
            return False
        try:
            self.out.put_nowait(frame)
            return True
        except queue.Full:            # a client that does not read: cut it off rather than buffer without bound
            self.abort()
            return False

    def send_text(self, text):
        self.sent_messages += 1
        return self._enqueue(encode_frame(OP_TEXT, text.encode()))

    def send_binary(self, data):
        self.sent_messages += 1
        return self._enqueue(encode_frame(OP_BINARY, data))

    def ping(self, payload=b""):
        return self._enqueue(encode_frame(OP_PING, payload))

    def close(self, code=1000, reason=""):
        """Starts the close handshake (the reader ends when the client answers; the hub aborts laggards)."""
        if self.close_sent or self.closed.is_set():
            return
        self.close_sent = True
        self.closing_since = time.monotonic()
        self._enqueue(encode_frame(OP_CLOSE, struct.pack("!H", code) + reason.encode()[:120]))

    def drop(self):
        """Ends the TCP connection with no close frame once the frames already queued are out (the peer reads
        them, then end of stream)."""
        if self.closed.is_set():
            return
        try:
            self.out.put_nowait(_CUT)
        except queue.Full:
            return self.abort()
        self.closed.set()

    def abort(self):
        """Cuts the TCP connection now, with no close frame (the peer sees a reset)."""
        if self.closed.is_set():
            return
        self.aborted = True
        self.closed.set()
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.sock.shutdown(socket.SHUT_RD)      # wakes the reader; the server then closes with a reset
        except OSError:
            pass
        try:
            self.out.put_nowait(None)
        except queue.Full:
            pass

    def finish(self, timeout=2.0):
        """After the reader has ended: lets the writer flush what is queued (a close frame), then stops it and
        discards what the peer still sends for up to a second, so that unread input does not turn the close into
        a reset that would destroy the close frame."""
        if not self.aborted:
            try:
                self.out.put(None, timeout=timeout)
            except queue.Full:
                pass
            self.writer.join(timeout)
            try:
                self.sock.shutdown(socket.SHUT_WR)
                self.sock.settimeout(0.2)
                deadline, drained = time.monotonic() + 1.0, 0
                while time.monotonic() < deadline and drained < 1 << 20:
                    chunk = self.sock.recv(65536)
                    if not chunk:
                        break
                    drained += len(chunk)
            except OSError:
                pass
        self.closed.set()

    def _write_loop(self):
        while True:
            frame = self.out.get()
            if frame is None or self.aborted:
                return
            if frame is _CUT:
                try:
                    self.sock.shutdown(socket.SHUT_RDWR)     # FIN, and the reader wakes up
                except OSError:
                    pass
                return
            try:
                self.sock.sendall(frame)
            except OSError:
                self.abort()
                return

    # --- reading -------------------------------------------------------------------------------------------
    def _read(self, n):
        data = self.rfile.read(n) if n else b""
        if len(data) < n:
            raise Closed("connection closed by the peer")
        return data

    def _fail(self, code, reason):
        self.close(code, reason)
        raise Closed(reason)

    def receive(self):
        """The next text or binary message: (opcode, bytes). Answers pings and the close handshake on the way.
        Raises Closed when the connection ends."""
        opcode, parts, size = None, [], 0
        while True:
            try:
                b1, b2 = self._read(2)
                fin, rsv, op = b1 & 0x80, b1 & 0x70, b1 & 0x0F
                masked, length = b2 & 0x80, b2 & 0x7F
                if length == 126:
                    length = struct.unpack("!H", self._read(2))[0]
                elif length == 127:
                    length = struct.unpack("!Q", self._read(8))[0]
                if rsv:
                    self._fail(1002, "reserved bits set")
                if not masked:
                    self._fail(1002, "client frames must be masked")
                if op >= 0x8 and (length > 125 or not fin):
                    self._fail(1002, "bad control frame")
                if op < 0x8 and size + length > self.max_message:
                    self._fail(1009, f"message over {self.max_message} bytes")
                mask = self._read(4)
                payload = self._read(length)
            except (OSError, ValueError):
                raise Closed("connection broken") from None
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload)) if length < 4096 else \
                _unmask(payload, mask)
            self.last_heard = time.monotonic()
            if op == OP_PING:
                self._enqueue(encode_frame(OP_PONG, payload))
                continue
            if op == OP_PONG:
                continue
            if op == OP_CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1000
                if not self.close_sent:
                    self.close_sent = True
                    self._enqueue(encode_frame(OP_CLOSE, struct.pack("!H", code if code != 1005 else 1000)))
                raise Closed("closed by the peer")
            if op == OP_CONT:
                if opcode is None:
                    self._fail(1002, "continuation without a message")
            elif op in (OP_TEXT, OP_BINARY):
                if opcode is not None:
                    self._fail(1002, "new message inside a fragmented one")
                opcode = op
            else:
                self._fail(1002, f"unknown opcode {op}")
            parts.append(payload)
            size += length
            if fin:
                data = b"".join(parts)
                if opcode == OP_TEXT:
                    try:
                        data.decode("utf-8")
                    except UnicodeDecodeError:
                        self._fail(1007, "text frame is not UTF-8")
                return opcode, data


def _unmask(payload, mask):
    n = len(payload)
    key = int.from_bytes((mask * (n // 4 + 1))[:n], "big")
    return (int.from_bytes(payload, "big") ^ key).to_bytes(n, "big")
