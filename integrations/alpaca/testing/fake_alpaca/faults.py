"""Faults: queued explicit ones (`--faults`, `POST /_fake/faults`) and seeded random ones (`--fault-rate`).

Explicit faults are objects `{"kind": K, ...}`, queued per kind and consumed in order by the events they apply to:

  kind                  applies to                      parameters (defaults)
  429                   the next REST requests          count (1) or seconds (a storm lasting that long);
                                                        reset_in: X-Ratelimit-Reset this many s ahead (2)
  500, 502, 503         the next REST requests          count (1); 502 answers an HTML gateway page
  (429/5xx)                                             method, path: only requests with that method / path prefix
  timeout_after_accept  the next POST /v2/orders        seconds: answer after this delay; without it (or close:
                                                        true) the connection is closed with no answer. The order
                                                        is booked either way (and fills as usual).
  reject_next_order     the next POST /v2/orders        mode "async" (accepted, then `rejected` on trade_updates,
                                                        the default) or "http" (status 403 or 422, message)
  partial_fill          the next market order           parts (2): fills in that many parts, one a bar, with
                                                        partial_fill events
  drop_trade_stream,    the open streams of that kind   after (0): messages still sent before the TCP connection
  drop_data_stream      (the next one if none is open)  is cut (no close frame: FIN once what was sent is out;
                                                        reset: true sends a TCP reset instead, which can also
                                                        lose what the client had not read yet)
  silent_trade_stream,  likewise                        seconds (10): nothing sent (pings still answered); what
  silent_data_stream                                    would have been sent meanwhile is lost to that client
  ws_auth_fail          the next stream logins          stream "trade" | "data" | "any" (any), count (1)

Random faults (`--fault-rate P --seed N`): each eligible event draws once from its own seeded generator (one per
event class, so a client that repeats its requests meets the same faults); with probability P one fault of a kind
that fits the event is injected. Only transport and timing kinds are drawn — 429 (reset 1-3 s; one in five a
storm of 3-8 requests), 500/502/503, timeout_after_accept (half delayed 1-4 s, half closed), stream drops and
silences (2-8 s; drops half FIN, half reset), partial fills (2-3 parts) — never rejections or auth failures, so the book stays consistent.
Every injected fault is logged to stderr (`FAULT kind ...`) and counted by kind.
"""
import collections
import decimal
import random
import sys
import threading
import time

HTTP_KINDS = ("429", "500", "502", "503")
STREAM_KINDS = ("drop_trade_stream", "drop_data_stream", "silent_trade_stream", "silent_data_stream")
KINDS = HTTP_KINDS + ("timeout_after_accept", "reject_next_order", "partial_fill", "ws_auth_fail") + STREAM_KINDS
RANDOM_KINDS = HTTP_KINDS + ("timeout_after_accept", "partial_fill") + STREAM_KINDS
_PARAMS = {
    "429": {"count", "seconds", "reset_in", "method", "path"},
    "500": {"count", "method", "path"}, "502": {"count", "method", "path"}, "503": {"count", "method", "path"},
    "timeout_after_accept": {"seconds", "close"},
    "reject_next_order": {"mode", "status", "message"},
    "partial_fill": {"parts"},
    "ws_auth_fail": {"stream", "count"},
    "drop_trade_stream": {"after", "reset"}, "drop_data_stream": {"after", "reset"},
    "silent_trade_stream": {"seconds"}, "silent_data_stream": {"seconds"},
}


class FaultSpecError(ValueError):
    pass


def _number(spec, name, default, low, high, integer=False):
    value = spec.get(name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float, decimal.Decimal)) \
            or (integer and not float(value).is_integer()):
        raise FaultSpecError(f"{spec.get('kind')}: {name} must be {'an integer' if integer else 'a number'}")
    if not low <= value <= high:
        raise FaultSpecError(f"{spec.get('kind')}: {name} must be between {low} and {high}")
    return int(value) if integer else float(value)


def normalise(spec):
    """Checks one fault object and fills in its defaults. Raises FaultSpecError naming the field."""
    if not isinstance(spec, dict):
        raise FaultSpecError("a fault must be an object with a kind")
    kind = str(spec.get("kind", ""))
    if kind not in KINDS:
        raise FaultSpecError(f"unknown fault kind {kind!r} (kinds: {', '.join(KINDS)})")
    unknown = set(spec) - _PARAMS[kind] - {"kind"}
    if unknown:
        raise FaultSpecError(f"{kind}: unknown parameter(s) {', '.join(sorted(unknown))} "
                             f"(takes {', '.join(sorted(_PARAMS[kind])) or 'none'})")
    out = {"kind": kind}
    if kind in HTTP_KINDS:
        if "seconds" in spec:
            out["until"] = time.monotonic() + _number(spec, "seconds", 0, 0.01, 3600)
            out["count"] = None
        else:
            out["count"] = _number(spec, "count", 1, 1, 100000, integer=True)
        if kind == "429":
            out["reset_in"] = _number(spec, "reset_in", 2, 0, 3600)
        for name in ("method", "path"):
            if name in spec:
                if not isinstance(spec[name], str):
                    raise FaultSpecError(f"{kind}: {name} must be a string")
                out[name] = spec[name].upper() if name == "method" else spec[name]
    elif kind == "timeout_after_accept":
        if "seconds" in spec and spec.get("close") is not True:
            out["seconds"] = _number(spec, "seconds", 5, 0, 600)
        else:
            out["close"] = True
    elif kind == "reject_next_order":
        mode = spec.get("mode", "async")
        if mode not in ("async", "http"):
            raise FaultSpecError("reject_next_order: mode must be async or http")
        out["mode"] = mode
        out["status"] = _number(spec, "status", 403, 400, 499, integer=True)
        message = spec.get("message", "insufficient buying power" if out["status"] == 403
                           else "order rejected by the fake (reject_next_order)")
        if not isinstance(message, str):
            raise FaultSpecError("reject_next_order: message must be a string")
        out["message"] = message
    elif kind == "partial_fill":
        out["parts"] = _number(spec, "parts", 2, 2, 100, integer=True)
    elif kind == "ws_auth_fail":
        stream = spec.get("stream", "any")
        if stream not in ("trade", "data", "any"):
            raise FaultSpecError("ws_auth_fail: stream must be trade, data or any")
        out["stream"] = stream
        out["count"] = _number(spec, "count", 1, 1, 100000, integer=True)
    elif kind.startswith("drop_"):
        out["after"] = _number(spec, "after", 0, 0, 10 ** 9, integer=True)
        out["reset"] = spec.get("reset", False) is True
    else:
        out["seconds"] = _number(spec, "seconds", 10, 0.01, 3600)
    return out


def parse_cli(text):
    """`--faults` text: a JSON list, or `kind[:name=value...]` items separated by commas,
    e.g. `429:count=3:reset_in=2,timeout_after_accept:seconds=5,drop_data_stream:after=10`."""
    import json
    text = text.strip()
    if not text:
        return []
    if text.startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as error:
            raise FaultSpecError(f"--faults is not valid JSON: {error}") from None
        if not isinstance(items, list):
            raise FaultSpecError("--faults JSON must be a list of fault objects")
        return [normalise(item) for item in items]
    out = []
    for item in text.split(","):
        parts = item.strip().split(":")
        spec = {"kind": parts[0]}
        for part in parts[1:]:
            name, eq, value = part.partition("=")
            if not eq:
                raise FaultSpecError(f"--faults item {item!r}: {part!r} is not name=value")
            try:
                spec[name] = json.loads(value)
            except json.JSONDecodeError:
                spec[name] = value
        out.append(normalise(spec))
    return out


class Faults:
    def __init__(self, rate=0.0, seed=0, kinds=None, log=None):
        self.lock = threading.Lock()
        self.rate = rate
        self.kinds = set(kinds or RANDOM_KINDS)
        self.rngs = {}
        self.seed = seed
        self.queue = collections.defaultdict(collections.deque)
        self.injected = collections.Counter()
        self.log_file = log or sys.stderr
        self.on_stream_fault = None      # set by the stream hub: called when a stream fault is queued

    def add(self, specs):
        specs = [normalise(s) for s in specs]
        with self.lock:
            for s in specs:
                self.queue[s["kind"]].append(s)
        if self.on_stream_fault and any(s["kind"] in STREAM_KINDS for s in specs):
            self.on_stream_fault()
        return len(specs)

    def pending(self):
        with self.lock:
            return [dict(s) for q in self.queue.values() for s in q]

    def record(self, kind, detail=""):
        with self.lock:
            self.injected[kind] += 1
        print(f"FAULT {kind} {detail}".rstrip(), file=self.log_file, flush=True)

    def _draw(self, category, kinds):
        """With probability rate, one of `kinds` (enabled ones) from the category's generator; else None."""
        kinds = [k for k in kinds if k in self.kinds]
        if self.rate <= 0 or not kinds:
            return None, None
        rng = self.rngs.setdefault(category, random.Random(f"{self.seed}/{category}"))
        if rng.random() >= self.rate:
            return None, rng
        return rng.choice(kinds), rng

    # --- REST ----------------------------------------------------------------------------------------------
    def rest(self, method, path):
        """A 429/5xx fault for this request: {"kind", "reset_in"} or None."""
        now = time.monotonic()
        with self.lock:
            hit = None
            for kind in HTTP_KINDS:
                hit = self._take_http(kind, method, path, now)
                if hit:
                    break
            if hit is None:
                kind, rng = self._draw("rest", HTTP_KINDS)
                if kind is not None:
                    hit = {"kind": kind, "reset_in": rng.randint(1, 3)}
                    if kind == "429" and rng.random() < 0.2:   # a storm: the next requests too
                        self.queue["429"].append({"kind": "429", "count": rng.randint(3, 8),
                                                  "reset_in": hit["reset_in"]})
        if hit:
            self.record(hit["kind"], f"{method} {path}")
        return hit

    def _take_http(self, kind, method, path, now):
        q = self.queue[kind]
        for spec in list(q):
            if spec.get("count") is None and spec["until"] <= now:
                q.remove(spec)          # a storm that has passed
                continue
            if spec.get("method", method) != method or not path.startswith(spec.get("path", "")):
                continue
            if spec.get("count") is not None:
                spec["count"] -= 1
                if spec["count"] <= 0:
                    q.remove(spec)
            return {"kind": kind, "reset_in": spec.get("reset_in", 2)}
        return None

    def order_timeout(self):
        """timeout_after_accept for this order POST: {"seconds": s} or {"close": True}, or None."""
        with self.lock:
            if self.queue["timeout_after_accept"]:
                spec = self.queue["timeout_after_accept"].popleft()
            else:
                kind, rng = self._draw("order_post", ("timeout_after_accept",))
                spec = None
                if kind:
                    spec = {"close": True} if rng.random() < 0.5 else {"seconds": rng.randint(1, 4)}
        if spec:
            self.record("timeout_after_accept", f"seconds={spec['seconds']}" if "seconds" in spec else "close")
        return spec

    def reject(self):
        with self.lock:
            spec = self.queue["reject_next_order"].popleft() if self.queue["reject_next_order"] else None
        if spec:
            self.record("reject_next_order", f"mode={spec['mode']}")
        return spec

    def partial_parts(self):
        """Called for an eligible market order: the number of parts, or None."""
        with self.lock:
            if self.queue["partial_fill"]:
                parts = self.queue["partial_fill"].popleft()["parts"]
            else:
                kind, rng = self._draw("market_order", ("partial_fill",))
                parts = rng.randint(2, 3) if kind else None
        if parts:
            self.record("partial_fill", f"parts={parts}")
        return parts

    def auth_fails(self, stream):
        with self.lock:
            q = self.queue["ws_auth_fail"]
            for spec in q:
                if spec["stream"] in (stream, "any"):
                    spec["count"] -= 1
                    if spec["count"] <= 0:
                        q.remove(spec)
                    break
            else:
                return False
        self.record("ws_auth_fail", f"stream={stream}")
        return True

    # --- streams --------------------------------------------------------------------------------------------
    def take_stream(self, stream):
        """Queued drop/silent faults for `stream` ("trade" | "data"), taken off the queue."""
        with self.lock:
            out = []
            for kind in (f"drop_{stream}_stream", f"silent_{stream}_stream"):
                while self.queue[kind]:
                    out.append(self.queue[kind].popleft())
            return out

    def random_stream(self, stream):
        """A random drop/silent fault for one delivery to one connection, or None (connections are asked in the
        order they were opened, so the draws repeat with the seed)."""
        with self.lock:
            kind, rng = self._draw(f"{stream}_stream",
                                   (f"drop_{stream}_stream", f"silent_{stream}_stream"))
            if kind is None:
                return None
            if kind.startswith("drop"):
                return {"kind": kind, "after": 0, "reset": rng.random() < 0.5}
            return {"kind": kind, "seconds": rng.uniform(2, 8)}

    def counts(self):
        with self.lock:
            return dict(self.injected)
