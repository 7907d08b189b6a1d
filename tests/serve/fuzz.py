#!/usr/bin/env python3
"""fuzz.py PORT [COUNT] [SEED] - bounded random-request fuzz of memwatchd on
127.0.0.1: garbage methods, paths, headers and query strings, valid and
broken HTTP, sent by 32 threads. Prints "requests N answered A closed C
statuses {...}"; exits 1 if a 5xx came back or nothing was
answered (503 and 505 are fine). Deterministic for a SEED."""
import os
import random
import re
import socket
import sys
import threading

PORT = int(sys.argv[1])
COUNT = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
SEED = int(sys.argv[3]) if len(sys.argv) > 3 else 1

METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "CONNECT", "PATCH",
           "get", "G\x00T", "GETT", "", "X" * 300, "BREW", "PROPFIND"]
PATHS = ["/", "/index.html", "/app.js", "/style.css", "/chart.umd.min.js", "/metrics",
         "/api/v1/tasks", "/api/v1/threads", "/api/v1/frag", "/api/v1/nodes", "/api/v1/sys",
         "/api/v1/reclaim", "/api/v1/allocfail", "/api/v1/extfrag", "/api/v1/status",
         "/api/v1/events", "/api/v1/events/stream", "/api/v1/memorylogs", "/api/v1/history",
         "/api/v1/config", "/api/v1/", "/api/v1", "/api", "//", "/../../../etc/passwd",
         "/api/v1/tasks/../status", "/%00", "/%ff%fe", "*", "http://x/metrics", ""]
PARAMS = ["since", "pid", "call", "limit", "comm", "column", "from", "to", "step", "x", "",
          "limit[]", "%00", "a" * 200]
VALUES = ["0", "1", "-1", "100", "10000", "10001", "99999999999999999999", "abc", "", "%20",
          "1e3", "0x10", "mmap", "munmap", "lost", "\xff", "%", "%zz", "1;2", "a" * 2000,
          "18446744073709551615", "-9223372036854775808", " 5"]
HEADERS = ["Host: x", "Last-Event-ID: 5", "Last-Event-ID: -1", "Last-Event-ID: abc",
           "Content-Length: 10", "Content-Length: -1", "Transfer-Encoding: chunked",
           "Connection: keep-alive", "Connection: close", "Range: bytes=0-5",
           "Accept-Encoding: gzip", "X-" + "a" * 5000 + ": b", "Expect: 100-continue",
           "If-Modified-Since: yesterday", ": novalue", "NoColon", "Host:", "\x01\x02: \x03"]

lock = threading.Lock()
stats = {"requests": 0, "answered": 0, "closed": 0, "bad5xx": 0}
statuses = {}
errors = {}


def rnd_query(r):
    if r.random() < 0.4:
        return ""
    parts = []
    for _ in range(r.randint(1, 5)):
        k = r.choice(PARAMS)
        if r.random() < 0.1:
            parts.append(k)
        else:
            parts.append(k + "=" + r.choice(VALUES))
    sep = r.choice(["&", "&", "&", ";", "&&"])
    return "?" + sep.join(parts)


def garbage(r, n):
    return bytes(r.randrange(256) for _ in range(n))


def one_request(r):
    kind = r.random()
    if kind < 0.05:
        return garbage(r, r.randint(1, 3000)), True
    method = r.choice(METHODS) if r.random() < 0.4 else "GET"
    path = r.choice(PATHS) + rnd_query(r)
    if r.random() < 0.05:
        path = path + "".join(chr(r.randrange(1, 256)) for _ in range(r.randint(1, 40)))
    version = r.choice(["HTTP/1.1"] * 6 + ["HTTP/1.0", "HTTP/2.0", "HTTP/9", "", "HTTPS/1.1"])
    hdrs = [r.choice(HEADERS) for _ in range(r.randint(0, 4))]
    if "Host: x" not in hdrs and r.random() < 0.9:
        hdrs.insert(0, "Host: x")
    if r.random() < 0.7:
        hdrs.append("Connection: close")
    req = "%s %s %s\r\n%s\r\n\r\n" % (method, path, version, "\r\n".join(hdrs))
    data = req.encode("latin-1", errors="replace")
    broken = False
    if r.random() < 0.05:
        data = data[: r.randint(0, len(data))]  # cut short
        broken = True
    if r.random() < 0.05:
        data += garbage(r, r.randint(1, 500))
        broken = True
    return data, broken


def worker(tid, count):
    r = random.Random(SEED * 1000 + tid)
    for _ in range(count):
        data, broken = one_request(r)
        try:
            # each thread its own loopback source address: the server's
            # per-address limit counts connections it has not reaped yet
            s = socket.create_connection(("127.0.0.1", PORT), 5, ("127.0.%d.%d" % (1 + tid // 200, 2 + tid % 200), 0))
            # a request that owes us no timely answer (broken, or announcing a
            # body it never sends) is given up on soon
            waits = broken or b"Content-Length: 1" in data or b"chunked" in data
            s.settimeout(0.5 if waits else 3)
            s.sendall(data)
            # a broken request gets our end of stream (no answer is owed);
            # a whole one is answered before the server sees us go
            if broken:
                try:
                    s.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
            head = b""
            # read one response: headers, then Content-Length bytes (a
            # keep-alive connection would otherwise wait for our timeout)
            while b"\r\n\r\n" not in head:
                b = s.recv(65536)
                if not b:
                    break
                head += b
            m = re.search(rb"\r\ncontent-length: *(\d+)", head, re.I)
            if m and not head.startswith(b"HTTP/1.1 100") and not data.startswith(b"HEAD "):
                want = head.index(b"\r\n\r\n") + 4 + int(m.group(1))
                while len(head) < want:
                    b = s.recv(65536)
                    if not b:
                        break
                    head += b
            s.close()
        except (OSError, socket.timeout) as e:
            head = head if "head" in locals() else b""
            with lock:
                errors[type(e).__name__] = errors.get(type(e).__name__, 0) + 1
                if os.environ.get("FUZZ_DEBUG"):
                    print(type(e).__name__, repr(data[:300]), repr(head[:60]))
        with lock:
            stats["requests"] += 1
            if head.startswith(b"HTTP/1."):
                stats["answered"] += 1
                code = head[9:12].decode(errors="replace")
                statuses[code] = statuses.get(code, 0) + 1
                # 503: no such module file; 505: an HTTP version we do not speak
                if code.startswith("5") and code not in ("503", "505"):
                    stats["bad5xx"] += 1
            else:
                stats["closed"] += 1


NTHREADS = 32
threads = [threading.Thread(target=worker, args=(i, COUNT // NTHREADS + (i < COUNT % NTHREADS)))
           for i in range(NTHREADS)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("requests %d answered %d closed %d statuses %s client errors %s" % (
    stats["requests"], stats["answered"], stats["closed"], dict(sorted(statuses.items())),
    dict(sorted(errors.items()))))
sys.exit(1 if stats["bad5xx"] or not stats["answered"] else 0)
