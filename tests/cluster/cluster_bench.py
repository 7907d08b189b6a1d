#!/usr/bin/env python3
"""cluster_bench.py - the measurement behind tests/bench/cluster-bench.sh."""
import gzip
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "tests/host/fixtures")
SERVE = os.path.join(ROOT, "userspace/memwatchd/memwatchd-serve")
WARMUP = float(os.environ.get("MW_BENCH_WARMUP", "15"))
WINDOW = float(os.environ.get("MW_BENCH_WINDOW", "30"))
HZ = os.sysconf("SC_CLK_TCK")
PROCS = []


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def start(argv, env=None):
    p = subprocess.Popen(argv, env=dict(os.environ, **(env or {})), stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    PROCS.append(p)
    return p


def stop(p):
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGTERM)
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def fetch(url, gz=False):
    req = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"} if gz else {})
    with urllib.request.urlopen(req, timeout=20) as r:
        return r.read()


def query(base, q):
    j = json.loads(fetch(base + "/api/v1/query?query=" + urllib.parse.quote(q)))
    res = j["data"]["result"]
    return float(res[0]["value"][1]) if res else float("nan")


def own_metric(base, name):
    """A figure of Prometheus's own /metrics (it does not scrape itself here)."""
    total, seen = 0.0, False
    for line in fetch(base + "/metrics").decode().splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            total += float(line.rsplit(None, 1)[1])
            seen = True
    return total if seen else float("nan")


def fixture(tmp):
    d = os.path.join(tmp, "host")
    os.makedirs(d)
    for f in ("status", "tasks"):
        shutil.copy(os.path.join(FIX, "tasks/module", f), d)
    for f in ("frag", "nodes", "extfrag"):
        shutil.copy(os.path.join(FIX, "frag/vm-6.1/module", f), d)
    path = os.path.join(d, "tasks")
    lines = open(path).read().splitlines()
    cols = lines[2][2:].split()
    for i in range(200):
        r = {c: "0" for c in cols}
        r.update(pid=str(3000 + i), ppid="1", fds="-", comm="cmd%02d" % (i % 80),
                 rss_kb=str(1000 + 91 * i), rss_anon_kb=str(500 + 45 * i), mapped_net_kb=str(4096 + i),
                 mmap_calls=str(i), mmap_kb=str(4096 + i), page_allocs=str(100 * i))
        lines.append(" ".join(r[c] for c in cols))
    open(path, "w").write("\n".join(lines) + "\n")
    return d


def proc_stat(pid):
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    cpu = (int(f[11]) + int(f[12])) / HZ
    rss = 0
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) * 1024
    return cpu, rss


def run(n, tmp, root):
    ports = []
    for _ in range(n):
        port = free_port()
        start([SERVE, "--listen", "127.0.0.1:%d" % port, "--metrics-top", "10"],
              env={"MEMWATCH_ROOT": root, "MEMWATCH_PROCFS": os.path.join(FIX, "tasks/procfs")})
        ports.append(port)
    pp = free_port()
    base = "http://127.0.0.1:%d" % pp
    cfg = os.path.join(tmp, "prom-%d.yml" % n)
    targets = ", ".join("'127.0.0.1:%d'" % p for p in ports)
    with open(cfg, "w") as f:
        f.write("global: {scrape_interval: 1s, scrape_timeout: 1s}\n"
                "scrape_configs:\n  - job_name: memwatch\n    static_configs:\n"
                "      - targets: [%s]\n" % targets)
    tsdb = os.path.join(tmp, "tsdb-%d" % n)
    prom = start(["prometheus", "--config.file=" + cfg, "--storage.tsdb.path=" + tsdb,
                  "--web.listen-address=127.0.0.1:%d" % pp, "--log.level=error"])
    for _ in range(100):
        try:
            fetch(base + "/-/ready")
            break
        except OSError:
            time.sleep(0.2)
    time.sleep(WARMUP)
    app0 = own_metric(base, "prometheus_tsdb_head_samples_appended_total")
    cpu0, _ = proc_stat(prom.pid)
    t0 = time.time()
    time.sleep(WINDOW)
    cpu1, rss = proc_stat(prom.pid)
    t1 = time.time()
    app1 = own_metric(base, "prometheus_tsdb_head_samples_appended_total")
    out = {
        "targets": n, "rss": rss, "cpu_s": cpu1 - cpu0, "wall_s": t1 - t0,
        # with no target nothing is appended (the counter may not exist yet)
        "samples": (app1 - app0) if app1 == app1 and app0 == app0 else 0.0,
        "head_series": own_metric(base, "prometheus_tsdb_head_series"),
        "scrape_s": query(base, 'avg(scrape_duration_seconds{job="memwatch"})') if n else float("nan"),
        "scraped": query(base, 'avg(scrape_samples_scraped{job="memwatch"})') if n else float("nan"),
    }
    for p in PROCS[:]:
        stop(p)
        PROCS.remove(p)
    return out


def main():
    counts = [int(a) for a in sys.argv[1:]] or [0, 10, 50]
    if 0 not in counts:
        counts = [0] + counts
    tmp = tempfile.mkdtemp(prefix="mw-cluster-bench-")
    try:
        root = fixture(tmp)
        port = free_port()
        p = start([SERVE, "--listen", "127.0.0.1:%d" % port, "--metrics-top", "10"],
                  env={"MEMWATCH_ROOT": root, "MEMWATCH_PROCFS": os.path.join(FIX, "tasks/procfs")})
        time.sleep(0.5)
        url = "http://127.0.0.1:%d/metrics" % port
        plain = fetch(url)
        gz = fetch(url, gz=True)
        sent_gzip = gz[:2] == b"\x1f\x8b"
        if not sent_gzip:	# the server does not compress: what gzip would give
            gz = gzip.compress(plain, 6)
        series = sum(1 for l in plain.decode().splitlines() if l and not l.startswith("#"))
        t = []
        for _ in range(20):
            s = time.perf_counter()
            fetch(url)
            t.append(time.perf_counter() - s)
        t.sort()
        stop(p)
        PROCS.remove(p)
        print("one host (fixture: %d processes, 80+ command names, 2 zones x 11 orders):" %
              (200 + 7))
        print("  series per scrape      %d" % series)
        print("  bytes per scrape       %d as sent (%s), %d gzipped" % (
            len(plain), "gzip" if sent_gzip else "memwatchd does not compress", len(gz)))
        print("  /metrics answer time   median %.1f ms (20 GETs)" % (t[len(t) // 2] * 1e3))
        runs = [run(n, tmp, root) for n in counts]
        print("\nPrometheus 2.42 (Debian), 1 s scrapes, warm-up %.0f s, window %.0f s:" % (WARMUP, WINDOW))
        print("  targets  head_series  samples/s  cpu (cores)  rss (MiB)  scrape_ms  samples/scrape")
        for r in runs:
            print("  %7d  %11.0f  %9.0f  %11.3f  %9.1f  %9.2f  %14.0f" % (
                r["targets"], r["head_series"], r["samples"] / r["wall_s"], r["cpu_s"] / r["wall_s"],
                r["rss"] / 2**20, r["scrape_s"] * 1e3, r["scraped"]))
        b, top = runs[0], runs[-1]
        for r in runs[1:]:
            print("  %d targets: %.0f bytes/series, %.2f us CPU/sample over the baseline" % (
                r["targets"], (r["rss"] - b["rss"]) / max(1, r["head_series"] - b["head_series"]),
                (r["cpu_s"] - b["cpu_s"]) / max(1, r["samples"] - b["samples"]) * 1e6))
        dseries = top["head_series"] - b["head_series"]
        dsamples = top["samples"] - b["samples"]
        if top["targets"] and dseries > 0 and dsamples > 0:
            mem_per_series = (top["rss"] - b["rss"]) / dseries
            cpu_per_sample = (top["cpu_s"] - b["cpu_s"]) / dsamples
            print("\nover the 0-target baseline of this run (%d targets):" % top["targets"])
            print("  memory per series      %.0f bytes" % mem_per_series)
            print("  CPU per sample         %.2f us" % (cpu_per_sample * 1e6))
            hosts, interval = 1000, 15.0
            s1000 = hosts * series
            print("\nextrapolated, %d hosts at a %.0f s interval (%d series, %.0f samples/s):" %
                  (hosts, interval, s1000, s1000 / interval))
            print("  memory  %.0f MiB (baseline %.0f MiB + series)" %
                  ((b["rss"] + s1000 * mem_per_series) / 2**20, b["rss"] / 2**20))
            print("  CPU     %.3f cores for ingestion (baseline %.3f)" %
                  (s1000 / interval * cpu_per_sample, b["cpu_s"] / b["wall_s"]))
            print("  network %.2f MiB/s as sent (%.2f MiB/s if gzipped)" %
                  (hosts * len(plain) / interval / 2**20, hosts * len(gz) / interval / 2**20))
    finally:
        for p in PROCS:
            stop(p)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
