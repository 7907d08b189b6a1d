#!/usr/bin/env python3
"""serve_test.py - memwatchd's HTTP side on loopback, against fixtures.

Starts userspace/memwatchd/memwatchd-serve (MW_SERVE_BIN to override) on
127.0.0.1 with MEMWATCH_ROOT/MEMWATCH_PROCFS fixture trees and checks: API
JSON equals the fixture files cell for cell; /proc answers without the
module; events, SSE and memorylogs from an events fixture; /metrics through
promtool, grouping, --metrics-top, series bounds with 2,000 processes;
methods, unknown paths, bad parameters, huge headers, slow clients and a
thousand connections. Prints TAP.
"""
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "tests/host/fixtures")
BIN = os.environ.get("MW_SERVE_BIN", os.path.join(ROOT, "userspace/memwatchd/memwatchd-serve"))
N = 0
FAILED = 0


def tap(ok, what, detail=""):
    global N, FAILED
    N += 1
    print(("ok %d - %s" if ok else "not ok %d - %s") % (N, what))
    if not ok:
        FAILED += 1
        for line in str(detail).splitlines()[:20]:
            print("#   " + line)
    sys.stdout.flush()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    def __init__(self, root, procfs=None, args=(), binary=BIN, env_extra=None):
        self.port = free_port()
        env = dict(os.environ, MEMWATCH_ROOT=root)
        if procfs:
            env["MEMWATCH_PROCFS"] = procfs
        env.update(env_extra or {})
        self.log = tempfile.TemporaryFile()
        self.p = subprocess.Popen([binary, "--listen", "127.0.0.1:%d" % self.port] + list(args),
                                  env=env, stdout=self.log, stderr=self.log)
        self.base = "http://127.0.0.1:%d" % self.port
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                if self.p.poll() is not None:
                    break
                time.sleep(0.05)
        raise RuntimeError("memwatchd-serve did not start: " + self.output())

    def output(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def get(self, path, method="GET", headers=None):
        req = urllib.request.Request(self.base + path, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=20) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def json(self, path):
        st, _, body = self.get(path)
        return st, json.loads(body)

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        try:
            rc = self.p.wait(30)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = -9
        return rc


def cell(s):
    """What the API promises for a cell of a module file."""
    if s == "-":
        return None
    if re.fullmatch(r"-?\d+", s):
        return int(s)
    if re.fullmatch(r"-?\d+\.\d+", s):
        return float(s)
    return s


def parse_module_file(path):
    """The fixture, parsed independently of libmwcore: values and tables."""
    values, tables, cols, title = {}, {}, None, None
    lines = open(path).read().splitlines()
    for line in lines[1:]:
        if line.startswith("#"):
            legend = line[1:].strip()
            m = re.match(r"(\w+): (.*)", legend)
            title, names = (m.group(1), m.group(2)) if m else ("rows", legend)
            cols = names.split()
            tables[title] = []
            continue
        if cols is None:
            k, v = line.split(None, 1)
            values[k] = v.strip() if "version" in k else cell(v.strip())
            continue
        if title != "rows" and line.split(None, 1)[0] == title:
            line = line.split(None, 1)[1]
        parts = line.split(None, len(cols) - 1)
        tables[title].append({c: cell(v) for c, v in zip(cols, parts) if c != "pfn"})
    return values, tables


def check_module_files():
    srv = Server(os.path.join(FIX, "tasks/module"))
    for name in ("tasks", "threads", "status"):
        st, j = srv.json("/api/v1/" + name)
        values, tables = parse_module_file(os.path.join(FIX, "tasks/module", name))
        same = st == 200 and j["source"] == "module" and j["values"] == values and \
            all(j.get(t) == rows for t, rows in tables.items())
        tap(same, "/api/v1/%s equals the module file, every column and value (%d rows)" %
            (name, sum(len(r) for r in tables.values())),
            json.dumps(j)[:800])
    st, h, body = srv.get("/api/v1/tasks", method="HEAD")
    tap(st == 200 and body == b"" and h.get("Content-Type") == "application/json",
        "HEAD /api/v1/tasks: 200, JSON type, no body")
    srv.stop()
    fr = os.path.join(FIX, "frag/vm-6.1/module")
    srv = Server(fr)
    for name in ("frag", "extfrag", "nodes"):
        st, j = srv.json("/api/v1/" + name)
        values, tables = parse_module_file(os.path.join(fr, name))
        same = st == 200 and j["values"] == values and \
            all(j.get(t) == rows for t, rows in tables.items())
        tap(same, "/api/v1/%s equals the module file (%d rows)" %
            (name, sum(len(r) for r in tables.values())), json.dumps(j)[:800])
    st, j = srv.json("/api/v1/extfrag")
    tap("pfn" not in json.dumps(j), "/api/v1/extfrag leaves out page frame numbers")
    st, j = srv.json("/api/v1/allocfail")
    tap(st == 503 and "allocfail" in j.get("error", ""),
        "a module file that is missing: 503 with a JSON error naming it", json.dumps(j))
    srv.stop()


def check_procfs():
    procfs = os.path.join(FIX, "tasks/procfs")
    srv = Server("/nonexistent-memwatch", procfs)
    st, j = srv.json("/api/v1/tasks")
    want = {}
    for pid in os.listdir(procfs):
        if not pid.isdigit():
            continue
        text = open(os.path.join(procfs, pid, "status")).read()
        f = dict(re.findall(r"^(\w+):\s*(.*)$", text, re.M))
        if "VmSize" in f:
            want[int(pid)] = (f["Name"], int(f["VmRSS"].split()[0]), int(f["VmSize"].split()[0]))
    got = {r["pid"]: (r["comm"], r["rss_kb"], r["vsz_kb"]) for r in j.get("rows", [])}
    tap(st == 200 and j["source"] == "procfs" and got == want,
        "without the module /api/v1/tasks is /proc/PID/status, marked source=procfs (%d)" % len(want),
        "got %s\nwant %s" % (got, want))
    st, j = srv.json("/api/v1/threads")
    tap(st == 503 and "not loaded" in j["error"], "without the module /api/v1/threads: 503, says why",
        json.dumps(j))
    st, body = srv.json("/api/v1/status")
    tap(st == 200 and body["module_loaded"] is False, "without the module /api/v1/status says so")
    st, h, text = srv.get("/metrics")
    tap(st == 200 and b"memwatch_module_loaded 0" in text, "/metrics without the module: module_loaded 0")
    srv.stop()


EVENTS = """memwatch-events - version: 1.0
# seq time_ns kind pid tid key=value... comm=COMM
101 5000000000 mmap 311 311 len=8192 prot=0x3 flags=0x22 anon=1 result=0 comm=tasks_mmap
102 5000001000 munmap 311 311 len=8192 result=0 comm=tasks_mmap
103 5000002000 mmap 412 413 len=1048576 prot=0x3 flags=0x22 anon=1 result=0 comm=my worker
104 5000003000 stall 412 413 duration_ns=35000 reclaimed_pages=12 comm=my worker
105 5000004000 exit 311 311 mmap_calls=1 mmap_kb=8 munmap_calls=1 munmap_kb=8 mremap_calls=0 mremap_kb=0 brk_calls=0 brk_kb=0 page_allocs=9 stall_count=0 stall_ns=0 allocfail=0 hwm_kb=900 comm=tasks_mmap
106 5000005000 mmap 412 412 len=4096 prot=0x1 flags=0x2 anon=0 result=-12 comm=my worker
"""


def check_events(tmp):
    root = os.path.join(tmp, "ev")
    shutil.copytree(os.path.join(FIX, "tasks/module"), root)
    open(os.path.join(root, "events"), "w").write(EVENTS)
    srv = Server(root, os.path.join(FIX, "tasks/procfs"))
    st, j = srv.json("/api/v1/events")
    seqs = [e["seq"] for e in j["events"]]
    tap(st == 200 and seqs == [101, 102, 103, 104, 105, 106] and j["last_seq"] == 106,
        "events: every event, oldest first", json.dumps(j)[:600])
    e = j["events"][2]
    tap(e == {"seq": 103, "time_ns": 5000002000, "kind": "mmap", "pid": 412, "tid": 413,
              "len": 1048576, "prot": "0x3", "flags": "0x22", "anon": 1, "result": 0,
              "comm": "my worker"},
        "an event's fields: numbers, hex as written, comm with its space", json.dumps(e))
    st, j = srv.json("/api/v1/events?since=102&pid=412&call=mmap")
    tap([x["seq"] for x in j["events"]] == [103, 106], "events?since=102&pid=412&call=mmap",
        json.dumps(j)[:400])
    st, j = srv.json("/api/v1/events?limit=2")
    tap([x["seq"] for x in j["events"]] == [105, 106], "events?limit=2: the newest two")
    st, j = srv.json("/api/v1/events?since=101&limit=2")
    tap([x["seq"] for x in j["events"]] == [102, 103], "events?since=101&limit=2: the next two")
    st, j = srv.json("/api/v1/memorylogs?limit=3")
    total = 466148 * 1024  # fixture meminfo MemTotal
    total = int(re.search(r"MemTotal:\s+(\d+)", open(os.path.join(FIX, "tasks/procfs/meminfo")).read()).group(1)) * 1024
    first = j[0] if j else {}
    tap(st == 200 and [x["seq"] for x in j] == [106, 103, 102] and
        first["pid"] == 412 and first["process_name"] == "my worker" and
        first["call_type"] == "mmap" and first["memory_size"] == 4096 and
        first["memory_size_mb"] == round(4096 / 1048576, 2) and
        first["memory_size_per"] == round(4096 * 100 / total, 2) and
        re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first["timestamp"]) and
        j[1]["memory_size_mb"] == 1.0,
        "memorylogs: seed 002's fields, mmap/munmap only, newest first", json.dumps(j)[:600])
    st, h, body = srv.get("/api/v1/events/stream", headers={"Last-Event-ID": "104"})
    text = body.decode()
    ids = re.findall(r"^id: (\d+)$", text, re.M)
    tap(st == 200 and h.get("Content-Type") == "text/event-stream" and "retry: " in text and
        ids == ["105", "106"] and "event: exit" in text,
        "SSE stream resumes after Last-Event-ID 104", text[:400])
    st, h, body = srv.get("/api/v1/events/stream")
    text = body.decode()
    tap(st == 200 and "data:" not in text and re.search(r"^id: 106$", text, re.M),
        "SSE stream without an id starts at the newest event (no backlog)", text)
    st, j = srv.json("/api/v1/history?pid=1")
    tap(st == 404 and "recording" in j["error"], "history without a recording: 404, says why")
    srv.stop()
    check_live_stream(tmp)


def sse_client(port):
    s = socket.create_connection(("127.0.0.1", port), 5)
    s.settimeout(10)
    s.sendall(b"GET /api/v1/events/stream HTTP/1.1\r\nHost: x\r\n\r\n")
    return s


def sse_until(s, pattern, limit=10):
    """Read from a held-open stream until pattern appears (or limit seconds)."""
    got = b""
    end = time.time() + limit
    while time.time() < end and not re.search(pattern, got):
        try:
            b = s.recv(65536)
        except socket.timeout:
            break
        if not b:
            break
        got += b
    return got


def check_live_stream(tmp):
    """A FIFO stands for /proc/memwatch/events: held-open streams, live.
    The stream is suspended while the FIFO is empty and resumed when a line
    arrives."""
    root = os.path.join(tmp, "live")
    shutil.copytree(os.path.join(FIX, "tasks/module"), root)
    fifo = os.path.join(root, "events")
    os.mkfifo(fifo)
    wfd = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)  # a writer for as long as we like
    os.write(wfd, EVENTS.encode())
    srv = Server(root, os.path.join(FIX, "tasks/procfs"))
    a = sse_client(srv.port)
    head = sse_until(a, rb"id: \d+\n\n")
    tap(b"200 OK" in head and b"text/event-stream" in head and b"data:" not in head,
        "a held-open stream: headers, no backlog", head[:300])
    os.write(wfd, b"107 6000000000 mmap 900 900 len=65536 prot=0x3 flags=0x22 anon=1 result=0 comm=late one\n")
    got = sse_until(a, rb"id: 107\nevent: mmap\ndata: \{[^\n]*late one")
    tap(re.search(rb"id: 107\nevent: mmap\ndata: \{[^\n]*\"len\":65536", got) is not None,
        "an event written after the client connected arrives on the open stream", got[:300])
    others = [sse_client(srv.port) for _ in range(7)]
    for o in others:
        sse_until(o, rb"id: \d+\n\n", 5)
    st, h, body = srv.get("/api/v1/events/stream")
    tap(st == 503 and b"at most 8" in body, "a 9th stream client: 503", (st, body[:200]))
    st, _, _ = srv.get("/api/v1/tasks")
    tap(st == 200, "8 held-open streams: other requests are still served")
    # (a FIFO hands each line to one reader, unlike the module's file, which
    # gives every reader every event: so one client's view is checked here)
    t0 = time.time()
    rc = srv.stop()
    tap(rc == 0 and time.time() - t0 < 10, "SIGTERM with 8 open streams: clean exit (%s) in %.1fs"
        % (rc, time.time() - t0), srv.output()[-1000:])
    for o in others + [a]:
        o.close()
    os.close(wfd)


def promtool(text):
    p = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True)
    return p.returncode, (p.stdout + p.stderr).decode(errors="replace")


def samples(text, name):
    out = {}
    for line in text.splitlines():
        m = re.match(r"^%s(\{[^}]*\})? (\S+)$" % re.escape(name), line)
        if m:
            out[m.group(1) or ""] = float(m.group(2))
    return out


def write_tasks(path, rows, mem_total_kb=1000000):
    cols = ("pid ppid uid threads fds vsz_kb rss_kb rss_anon_kb rss_file_kb rss_shmem_kb swap_kb "
            "data_kb stack_kb pte_kb hwm_kb minflt majflt mmap_calls mmap_kb munmap_calls munmap_kb "
            "mapped_net_kb mremap_calls mremap_kb brk_calls brk_kb page_allocs stall_count stall_ns "
            "allocfail share_pm comm").split()
    with open(path, "w") as f:
        f.write("memwatch-tasks - version: 1.0\nmem_total_kb %d\n# %s\n" % (mem_total_kb, " ".join(cols)))
        for r in rows:
            f.write(" ".join(str(r.get(c, 0)) for c in cols) + "\n")


def check_metrics(tmp):
    root = os.path.join(tmp, "m")
    shutil.copytree(os.path.join(FIX, "frag/vm-6.1/module"), root)
    rows = [dict(pid=100 + i, comm=("web" if i < 3 else "db %d" % i), rss_kb=1000 * (i + 1),
                 mmap_kb=10 * i, mmap_calls=i, stall_ns=1500000000 * i) for i in range(8)]
    write_tasks(os.path.join(root, "tasks"), rows)
    srv = Server(root, os.path.join(FIX, "frag/vm-6.1/procfs"), ["--metrics-top", "3"])
    st, h, body = srv.get("/metrics")
    text = body.decode()
    rc, out = promtool(body)
    tap(st == 200 and h.get("Content-Type") == "text/plain; version=0.0.4; charset=utf-8",
        "/metrics: 200 with the 0.0.4 Content-Type", h.get("Content-Type"))
    tap(rc == 0, "promtool check metrics passes", out)
    rss = samples(text, "memwatch_group_rss_bytes")
    tap(rss.get('{comm="web"}') == (1000 + 2000 + 3000) * 1024 and
        samples(text, "memwatch_group_processes").get('{comm="web"}') == 3,
        "per command name: the sum over its processes (web: 3 processes)", rss)
    stall = samples(text, "memwatch_group_stall_seconds_total")
    tap(stall.get('{comm="db 5"}') == 7.5, "stall time in seconds, counters end in _total", stall)
    top = samples(text, "memwatch_process_rss_bytes")
    tap(sorted(top) == sorted(['{pid="107",comm="db 7"}', '{pid="106",comm="db 6"}',
                               '{pid="105",comm="db 5"}', '{pid="others",comm="others"}']) and
        top['{pid="others",comm="others"}'] == sum(1000 * (i + 1) for i in range(5)) * 1024,
        "--metrics-top 3: three pids and the rest as others", top)
    frag_rows = parse_module_file(os.path.join(root, "frag"))[1]["orders"]
    fb = samples(text, "memwatch_frag_free_blocks")
    ui = samples(text, "memwatch_frag_unusable_index")
    tap(len(fb) == len(frag_rows) and all(
        fb['{node="%d",zone="%s",order="%d"}' % (r["node"], r["zone"], r["order"])] == r["free_blocks"] and
        ui['{node="%d",zone="%s",order="%d"}' % (r["node"], r["zone"], r["order"])] == r["unusable_index"]
        for r in frag_rows), "frag per node, zone and order equals the module file (%d)" % len(frag_rows))
    held = samples(text, "memwatch_module_memory_held_bytes")
    sv = parse_module_file(os.path.join(root, "status"))[0]
    tap(held.get('{feature="all"}') == sv["memory_held_bytes"] and
        samples(text, "memwatch_module_lost_total").get('{counter="frag.extfrag_dropped"}') == sv["frag.extfrag_dropped"],
        "module health: memory held and losses from status")
    tap(not re.search(r'(host|instance)=', text), "no host or instance label")
    # the last "web" process goes: its series go too
    write_tasks(os.path.join(root, "tasks"), [r for r in rows if r["comm"] != "web"])
    st, h, body = srv.get("/metrics")
    tap('comm="web"' not in body.decode() and 'comm="db 3"' in body.decode(),
        "a command name's series disappear with its last process")
    # 2,000 processes, all with different names: bounded
    rows = [dict(pid=1000 + i, comm="proc%04d" % i, rss_kb=i + 1) for i in range(2000)]
    write_tasks(os.path.join(root, "tasks"), rows)
    st, h, body = srv.get("/metrics")
    text = body.decode()
    nseries = sum(1 for line in text.splitlines() if line and not line.startswith("#"))
    rc, out = promtool(body)
    tap(rc == 0 and nseries < 2000, "2,000 processes of 2,000 names: %d series (< 2,000), promtool passes"
        % nseries, out)
    others = samples(text, "memwatch_group_processes").get('{comm="others"}')
    tap(others == 2000 - 100, "names past the 100 largest are summed as others (%s)" % others)
    srv.stop()


def check_history(tmp):
    """The real memwatchd, recording a fixture whose figures change."""
    mwd = os.path.join(ROOT, "userspace/memwatchd/memwatchd")
    if not os.access(mwd, os.X_OK):
        tap(False, "userspace/memwatchd/memwatchd built (make)")
        return
    import sqlite3
    root = os.path.join(tmp, "h")
    shutil.copytree(os.path.join(FIX, "tasks/module"), root)
    db = os.path.join(tmp, "h.db")
    rows = [dict(pid=500, comm="alpha", rss_kb=1000), dict(pid=501, comm="alpha", rss_kb=30),
            dict(pid=502, comm="beta", rss_kb=7)]
    write_tasks(os.path.join(root, "tasks"), rows)
    srv = Server(root, os.path.join(FIX, "tasks/procfs"), ["--db", db, "--interval", "0.2"],
                 binary=mwd)

    def samples_now():
        for _ in range(3):
            try:
                c = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
                n = c.execute("SELECT count(*) FROM sample").fetchone()[0]
                c.close()
                return n
            except sqlite3.Error:
                time.sleep(0.2)
        return 0

    def wait_samples(n):
        start = samples_now()
        for _ in range(300):
            if samples_now() >= start + n:
                return True
            time.sleep(0.1)
        return False

    # Each phase holds for one whole wall-clock second with samples in it;
    # with from= at a second and step=1 each point is one such second.
    def phase(task_rows):
        write_tasks(os.path.join(root, "tasks.tmp"), task_rows)
        os.replace(os.path.join(root, "tasks.tmp"), os.path.join(root, "tasks"))
        wait_samples(2)  # the change is recorded
        whole = int(time.time()) + 1
        while time.time() < whole + 1:
            time.sleep(0.05)
        wait_samples(1)
        return whole

    sec_a = phase(rows)
    rows[0]["rss_kb"] = 2000
    sec_b = phase(rows)
    sec_c = phase(rows[1:])  # pid 500 exits

    def at(q):
        st, j = srv.json("/api/v1/history?%s&step=1&from=%d&to=%d" % (q, sec_a, sec_c + 1))
        by_sec = {t // 1000: v for t, v in j.get("points", [])}
        return st, [by_sec.get(sec, "missing") for sec in (sec_a, sec_b, sec_c)], j

    st, vals, j = at("pid=500&column=rss_kb")
    tap(st == 200 and vals == [1000, 2000, None],
        "history?pid=500: 1000 then 2000 KiB, then nothing once it exited (%s)" % vals, json.dumps(j)[:600])
    st, vals, j = at("comm=alpha&column=rss_kb")
    tap(st == 200 and vals == [1030, 2030, 30],
        "history?comm=alpha: the sum over its processes (%s)" % vals, json.dumps(j)[:600])
    st, vals, j = at("column=rss_kb")
    tap(st == 200 and vals == [1037, 2037, 37], "history without pid/comm: all processes (%s)" % vals,
        json.dumps(j)[:400])
    st, j = srv.json("/api/v1/history?column=status.memory_held_bytes&step=1&from=%d" % (time.time() - 600))
    held = parse_module_file(os.path.join(root, "status"))[0]["memory_held_bytes"]
    tap(st == 200 and j["points"] and all(v == held for _, v in j["points"]),
        "history of a counter (status.memory_held_bytes)", json.dumps(j)[:300])
    for q in ("column=rss_kb;drop", "column=comm", "pid=1&comm=a&column=rss_kb",
              "column=rss_kb&from=10&to=5", "column=x.y&pid=3", "column=rss_kb&step=0",
              "pid=1", "column=rss_kb&from=0&step=1"):
        st, j = srv.json("/api/v1/history?" + q)
        tap(st == 400, "history?%s: 400" % q, json.dumps(j))
    st, j = srv.json("/api/v1/config")
    tap(j.get("recording") is True, "memwatchd --db: /api/v1/config says recording")
    rc = srv.stop()
    tap(rc == 0, "memwatchd stops cleanly (exit %s)" % rc, srv.output()[-1500:])


def raw(port, data, timeout=5, src="127.0.0.1"):
    s = socket.socket()
    s.settimeout(timeout)
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    s.sendall(data)
    out = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
    except (socket.timeout, ConnectionResetError):
        pass
    s.close()
    return out


def check_bad_input():
    srv = Server(os.path.join(FIX, "tasks/module"), os.path.join(FIX, "tasks/procfs"))
    for m in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
        st, h, body = srv.get("/api/v1/tasks", method=m)
        ok = st == 405 and h.get("Allow") == "GET, HEAD" and "error" in json.loads(body)
        tap(ok, "%s: 405 with Allow: GET, HEAD and a JSON error" % m, (st, h))
    for path in ("/api/v1/nope", "/api/v2/tasks", "/etc/passwd", "/../../etc/passwd", "/api/v1/"):
        st, h, body = srv.get(path)
        tap(st == 404 and h.get("Content-Type") == "application/json" and json.loads(body)["status"] == 404,
            "GET %s: 404 JSON" % path, (st, body[:200]))
    for q in ("/api/v1/tasks?x=1", "/api/v1/events?limit=0", "/api/v1/events?limit=abc",
              "/api/v1/events?since=-5", "/api/v1/events?pid=1&pid=2", "/api/v1/events?call=rm",
              "/api/v1/memorylogs?limit=99999999999999999999", "/metrics?a=b",
              "/api/v1/events?limit=%201"):
        st, h, body = srv.get(q)
        tap(st == 400 and "error" in json.loads(body), "GET %s: 400 JSON" % q, (st, body[:200]))
    st, h, body = srv.get("/api/v1/events/stream", headers={"Last-Event-ID": "x1"})
    tap(st == 400, "SSE with a bad Last-Event-ID: 400")
    out = raw(srv.port, b"GET /api/v1/tasks HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100000 + b"\r\n\r\n")
    tap(out[:12] in (b"HTTP/1.1 431", b"HTTP/1.1 413", b"HTTP/1.1 414") or out == b"",
        "a 100 KB header is refused", out[:100])
    out = raw(srv.port, b"GET /" + b"a" * 60000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    tap(out[:12] in (b"HTTP/1.1 414", b"HTTP/1.1 431", b"HTTP/1.1 413") or out == b"",
        "a 60 KB URL is refused", out[:100])
    out = raw(srv.port, b"GET /api/v1/tasks HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
    tap(out[:12] in (b"HTTP/1.1 413", b"HTTP/1.1 400"), "a GET with a body is refused", out[:100])
    st, _, _ = srv.get("/api/v1/tasks")
    tap(st == 200, "still serving after the bad requests")

    # slow clients and a thousand connections: others still served
    t0 = time.time()
    slow = socket.create_connection(("127.0.0.1", srv.port))
    slow.sendall(b"GET /api/v1/tasks HTTP/1.1\r\nHo")
    held = []
    refused = 0
    for _ in range(1000):
        try:
            s = socket.create_connection(("127.0.0.1", srv.port), 2)
            s.sendall(b"GET / HTTP/1.1\r\n")
            held.append(s)
        except OSError:
            refused += 1
    # another client (127.0.0.2 is loopback too) gets answers meanwhile
    served = raw(srv.port, b"GET /api/v1/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                 src="127.0.0.2")
    tap(served.startswith(b"HTTP/1.1 200"), "1,000 held connections: another client is served (%d refused "
        "at connect)" % refused, served[:100])
    # The server closes what is past the limit as it accepts them, which a
    # loaded host may not have done yet: poll until enough are closed (up to
    # 30 s, a condition, not a fixed wait). The 64 within the limit stay open.
    closed, is_closed = 0, set()
    end = time.time() + 30
    while closed + refused < 1000 - 64 * 1 and time.time() < end:
        for i, s in enumerate(held):
            if i in is_closed:
                continue
            s.settimeout(0)
            try:
                if s.recv(1) == b"":
                    is_closed.add(i)
            except BlockingIOError:
                pass
            except OSError:
                is_closed.add(i)
        closed = len(is_closed)
        if closed + refused < 1000 - 64 * 1:
            time.sleep(0.1)
    tap(closed + refused >= 1000 - 64 * 1, "connections past the per-address limit (64) are closed "
        "(%d closed, %d refused)" % (closed, refused))
    for s in held:
        s.close()
    slow.settimeout(30)
    try:
        got = slow.recv(100)
    except OSError:
        got = b""
    waited = time.time() - t0
    tap(got in (b"",) or got.startswith(b"HTTP/1.1 408"),
        "a client that stops mid-request is dropped (after %.0fs)" % waited, got)
    slow.close()
    st, _, _ = srv.get("/api/v1/tasks")
    tap(st == 200, "still serving after the flood")
    rc = srv.stop()
    tap(rc == 0, "SIGTERM: memwatchd-serve stops cleanly (exit %s)" % rc, srv.output()[-2000:])


def main():
    if not os.access(BIN, os.X_OK):
        p = subprocess.run(["make", "-C", os.path.join(ROOT, "userspace/memwatchd"), "memwatchd-serve"],
                           capture_output=True)
        tap(p.returncode == 0, "memwatchd-serve builds", p.stdout.decode()[-1500:] + p.stderr.decode()[-1500:])
        if p.returncode:
            print("1..%d" % N)
            return 1
    tmp = tempfile.mkdtemp(prefix="mw-serve-")
    try:
        check_module_files()
        check_procfs()
        check_events(tmp)
        if shutil.which("promtool"):
            check_metrics(tmp)
        else:
            tap(True, "metrics # SKIP promtool not installed (scripts/setup installs prometheus)")
        check_history(tmp)
        check_bad_input()
    except Exception as e:  # a test that died is a failure, with the reason
        import traceback
        tap(False, "serve test ran to the end", traceback.format_exc())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("1..%d" % N)
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
