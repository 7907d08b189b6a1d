#!/usr/bin/env python3
"""cluster_test.py - the cluster view end to end on a real Prometheus.

Debian's prometheus on 127.0.0.1 (1 s scrapes, storage in a temp dir, the
recording rules of Documentation/cluster/) scrapes five memwatchd-serve
instances: one in a QEMU VM with memwatch.ko loaded (scripts/vm-cluster-node.sh,
reached through vm-run --hostfwd on 127.0.0.1), three on the host over module
fixture files (figures that hold still, so comparisons are exact) and one on
the host's own /proc without the module. Checks: memwatch-read --cluster
lists every host; per-host figures and totals equal the sums of each
instance's own /api/v1/tasks (whole hosts for the fixtures; `-c mysqld`, seed
000's aggregated query, on every host including the VM, whose "mysqld" is
idle); -t and --frag against the instances' API; the recording rules'
results; a stopped instance shows as down with '-' figures; wrong URLs fail
with a clear message and exit 1; the cluster page in headless chromium.
Prints TAP. Everything started is stopped at exit.
"""
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "tests/host/fixtures")
SERVE = os.path.join(ROOT, "userspace/memwatchd/memwatchd-serve")
READ = os.path.join(ROOT, "userspace/memwatch-read")
LOGS = os.path.join(ROOT, "build/test-logs")
KERNEL = os.environ.get("MW_CLUSTER_KERNEL", "6.1")
N = 0
FAILED = 0
PROCS = []


def tap(ok, what, detail=""):
    global N, FAILED
    N += 1
    print(("ok %d - %s" if ok else "not ok %d - %s") % (N, what))
    if not ok:
        FAILED += 1
        for line in str(detail).splitlines()[:25]:
            print("#   " + line)
    sys.stdout.flush()
    return ok


def diag(msg):
    for line in str(msg).splitlines():
        print("# " + line)
    sys.stdout.flush()


def done():
    for p in reversed(PROCS):
        stop(p)
    print("1..%d" % N)
    sys.exit(1 if FAILED else 0)


def stop(p):
    if p.poll() is None:
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def start(argv, env=None, log=None):
    p = subprocess.Popen(argv, env=dict(os.environ, **(env or {})), stdin=subprocess.DEVNULL,
                         stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT,
                         start_new_session=True)
    PROCS.append(p)
    return p


_ports_given = set()


def free_port():
    # Not from bind(0): that port lies in the ephemeral range, and between
    # picking it and the server binding it, any connect() of this test (or
    # of the VM's forward) may take it as a source port; one run lost
    # Prometheus's port that way. Ports below the range, each given once.
    lo, hi = map(int, open("/proc/sys/net/ipv4/ip_local_port_range").read().split())
    first, last = (20000, lo - 1) if lo > 21000 else (hi + 1, 65535)
    for _ in range(1000):
        port = random.randint(first, last)
        if port in _ports_given:
            continue
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            s.close()
        _ports_given.add(port)
        return port
    raise RuntimeError("no free port in %d-%d" % (first, last))


def get_json(url, timeout=20):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")
    except (OSError, ValueError):
        return None, None


def wait_for(what, cond, timeout):
    end = time.time() + timeout
    while time.time() < end:
        v = cond()
        if v:
            return v
        time.sleep(0.3)
    return None


def read_cluster(*args):
    p = subprocess.run([READ, "--cluster"] + list(args), capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


# ------------------------------------------------------------- fixtures
def make_root(tmp, name, extra, frag):
    """Module files of the tasks fixture plus rows in EXTRA; frag files too."""
    d = os.path.join(tmp, name)
    os.makedirs(d)
    for f in ("status", "tasks"):
        shutil.copy(os.path.join(FIX, "tasks/module", f), d)
    if frag:
        for f in ("frag", "nodes", "extfrag"):
            shutil.copy(os.path.join(FIX, "frag/vm-6.1/module", f), d)
    path = os.path.join(d, "tasks")
    lines = open(path).read().splitlines()
    cols = lines[2][2:].split()
    for r in extra:
        row = {c: "0" for c in cols}
        row.update(ppid="1", fds="-")
        row.update({k: str(v) for k, v in r.items()})
        lines.append(" ".join(row[c] for c in cols))
    open(path, "w").write("\n".join(lines) + "\n")
    return d


def mysqld(pid, rss_kb, anon_kb, net_kb, calls, stall_ns=0):
    return dict(pid=pid, comm="mysqld", rss_kb=rss_kb, rss_anon_kb=anon_kb, mapped_net_kb=net_kb,
                mmap_kb=net_kb, mmap_calls=calls, munmap_calls=calls // 2, page_allocs=rss_kb // 4,
                stall_ns=stall_ns, stall_count=1 if stall_ns else 0, threads=4)


MODULE_ONLY = ("mapped_net_bytes", "mmap_calls", "munmap_calls", "page_allocs", "stall_ns", "allocfail")


def figures(tasks, comm=None):
    """What the cluster view must say for a host, from its own /api/v1/tasks:
    sums over its rows; without the module, '-' for the event counts."""
    rows = [r for r in tasks["rows"] if comm is None or r["comm"] == comm]
    s = lambda k: sum(r.get(k) or 0 for r in rows)
    f = {"processes": len(rows), "rss_bytes": s("rss_kb") * 1024,
            "rss_anon_bytes": s("rss_anon_kb") * 1024, "mapped_net_bytes": s("mapped_net_kb") * 1024,
            "mmap_calls": s("mmap_calls"), "munmap_calls": s("munmap_calls"),
            "page_allocs": s("page_allocs"), "stall_ns": s("stall_ns"), "allocfail": s("allocfail")}
    if tasks.get("source") != "module":
        f.update({k: "-" for k in MODULE_ONLY})
    return f


def main():
    for tool in ("/usr/bin/prometheus", "/usr/bin/promtool", "/usr/bin/chromium"):
        if not os.path.exists(tool):
            tap(True, "cluster test # SKIP %s missing (bash scripts/setup installs it)" % tool)
            done()
    tmp = tempfile.mkdtemp(prefix="mw-cluster-")
    try:
        run(tmp)
    finally:
        for p in reversed(PROCS):
            stop(p)
        shutil.rmtree(tmp, ignore_errors=True)
    done()


def run(tmp):
    os.makedirs(LOGS, exist_ok=True)
    rules = os.path.join(ROOT, "Documentation/cluster")
    chk = subprocess.run(["promtool", "check", "rules"] +
                         [os.path.join(rules, f) for f in sorted(os.listdir(rules)) if f.endswith(".yml")
                          and f != "prometheus.yml"], capture_output=True, text=True)
    tap(chk.returncode == 0, "promtool check rules: Documentation/cluster/*.yml", chk.stdout + chk.stderr)
    chk = subprocess.run(["promtool", "check", "config", os.path.join(rules, "prometheus.yml")],
                         capture_output=True, text=True)
    tap(chk.returncode == 0, "promtool check config: Documentation/cluster/prometheus.yml",
        chk.stdout + chk.stderr)

    # The VM first: it takes longest to come up.
    vm_port = free_port()
    vm_log = open(os.path.join(LOGS, "cluster-vm.log"), "w")
    vm = start([os.path.join(ROOT, "scripts/vm-run"), "--kernel", KERNEL, "--timeout", "400",
                "--hostfwd", "%d:7391" % vm_port, "--console-log", os.path.join(LOGS, "cluster-console.log"),
                "--", "sh", "scripts/vm-cluster-node.sh", "7391"], log=vm_log)

    prom_port = free_port()
    prom_url = "http://127.0.0.1:%d" % prom_port
    hosts = {}
    specs = {
        "a": ([mysqld(5001, 102400, 98304, 65536, 40), mysqld(5002, 51200, 40960, 8192, 12, 2500000)], True),
        "b": ([mysqld(6001, 307200, 300000, 4096, 7),
               dict(pid=6002, comm="bigproc", rss_kb=524288, rss_anon_kb=520000, mapped_net_kb=524288,
                    mmap_calls=3, mmap_kb=524288)], False),
        "c": ([mysqld(7001, 20480, 10240, 1024, 3), mysqld(7002, 20480, 10240, 1024, 3),
               mysqld(7003, 8192, 4096, 0, 1)], False),
    }
    for name, (extra, frag) in specs.items():
        root = make_root(tmp, name, extra, frag)
        port = free_port()
        args = [SERVE, "--listen", "127.0.0.1:%d" % port, "--metrics-top", "10"]
        if name == "a":
            args += ["--prometheus", prom_url]
        hosts[name] = (port, start(args, env={"MEMWATCH_ROOT": root,
                                              "MEMWATCH_PROCFS": os.path.join(FIX, "tasks/procfs")}))
    port = free_port()
    # no per-pid series here: this host's own processes would move the -t check
    hosts["d"] = (port, start([SERVE, "--listen", "127.0.0.1:%d" % port, "--metrics-top", "0"],
                              env={"MEMWATCH_ROOT": os.path.join(tmp, "no-module"), "MEMWATCH_PROCFS": "/proc"}))
    inst = {n: "127.0.0.1:%d" % p for n, (p, _) in hosts.items()}
    inst["vm"] = "127.0.0.1:%d" % vm_port

    # 1 s scrapes; the VM (TCG, on a host other jobs share) gets its own job with
    # room to answer: one of its /metrics took 1.04 s under load 10. Its job name
    # differs on purpose: memwatch-read finds it by its memwatch series.
    cfg = os.path.join(tmp, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write("global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}\n"
                "rule_files: [%s]\n"
                "scrape_configs:\n  - job_name: memwatch\n    static_configs:\n"
                "      - targets: [%s]\n"
                "  - job_name: memwatch-vm\n    scrape_interval: 5s\n    scrape_timeout: 5s\n"
                "    static_configs:\n      - targets: ['%s']\n" % (
                    json.dumps(os.path.join(rules, "memwatch-rules.yml")),
                    ", ".join("'%s'" % inst[n] for n in sorted(inst) if n != "vm"), inst["vm"]))
    start(["prometheus", "--config.file=" + cfg, "--storage.tsdb.path=" + os.path.join(tmp, "tsdb"),
           "--web.listen-address=127.0.0.1:%d" % prom_port, "--log.level=warn"],
          log=open(os.path.join(LOGS, "cluster-prometheus.log"), "w"))
    ready = wait_for("prometheus", lambda: urllib_ok(prom_url + "/-/ready"), 60)
    tap(bool(ready), "prometheus is ready on 127.0.0.1:%d" % prom_port)

    def targets_health():
        st, j = get_json(prom_url + "/api/v1/targets?state=active", 5)
        if st != 200:
            return {}
        return {t["labels"]["instance"]: (t["health"], t["lastScrape"]) for t in j["data"]["activeTargets"]}

    up = wait_for("targets up", lambda: all(h == "up" for h, _ in targets_health().values())
                  and len(targets_health()) == len(inst), 300)
    th = targets_health()
    if not tap(bool(up), "all %d targets up, the VM's through the 127.0.0.1 forward" % len(inst),
               json.dumps(th, indent=1) + "\n" + open(vm_log.name).read()[-2000:]):
        return
    # another scrape of every target, so each query sees a whole scrape
    time.sleep(5.5)

    api = {}

    def tasks_of(name):
        st, j = get_json("http://%s/api/v1/tasks" % inst[name])
        return j if st == 200 else None

    for name in inst:
        api[name] = tasks_of(name)
    tap(all(api.values()), "every instance answers /api/v1/tasks")

    # ---- the whole hosts
    rc, out, err = read_cluster(prom_url, "--json")
    doc = json.loads(out) if rc == 0 else {"hosts": []}
    rows = {r["host"]: r for r in doc["hosts"]}
    tap(rc == 0 and sorted(rows) == sorted(list(inst.values()) + ["total"]),
        "memwatch-read --cluster lists every host (%d) and a total" % len(inst), out + err)
    tap(all(rows.get(inst[n], {}).get("state") == "up" for n in inst), "every host is up",
        json.dumps(rows, indent=1))
    for n in ("a", "b", "c"):
        want = figures(api[n])
        want["mem_total_bytes"] = api[n]["values"]["mem_total_kb"] * 1024
        got = {k: rows.get(inst[n], {}).get(k) for k in want}
        tap(got == want, "host %s: every figure equals the sum of its own /api/v1/tasks rows" % n,
            "got  %s\nwant %s" % (got, want))
    r = rows.get(inst["vm"], {})
    tap(r.get("module") == "yes" and isinstance(r.get("mmap_calls"), int) and r.get("mmap_calls") > 0
        and isinstance(r.get("unusable_o9"), (int, float)),
        "the VM host: module loaded, mmap calls counted, a fragmentation index", json.dumps(r))
    r = rows.get(inst["d"], {})
    tap(r.get("module") == "no" and r.get("mmap_calls") == "-" and isinstance(r.get("rss_bytes"), int)
        and r.get("rss_bytes") > 0,
        "the host without the module: rss from /proc, event counts '-' (unknown), not 0", json.dumps(r))
    tot = rows.get("total", {})
    hostrows = [rows[i] for i in inst.values() if i in rows]
    sums = {k: sum(h[k] for h in hostrows if isinstance(h.get(k), int))
            for k in ("processes", "rss_bytes", "rss_anon_bytes", "mem_total_bytes", "mmap_calls")}
    tap(all(tot.get(k) == v for k, v in sums.items()) and tot.get("state") == "up:5/5",
        "the total row is the sum of the host rows", "total %s\nsums %s" % (tot, sums))

    # ---- seed 000: mysqld on every host, summed
    def mysqld_check(label, names, down=()):
        for _ in range(5):
            before = {n: figures(tasks_of(n), "mysqld") for n in names}
            rc, out, err = read_cluster(prom_url, "-c", "mysqld", "--json")
            after = {n: figures(tasks_of(n), "mysqld") for n in names}
            states = {n: r["state"] for r in (json.loads(out)["hosts"] if rc == 0 else [])
                      for n in names if r["host"] == inst[n]}
            if before == after and all(s == "up" for s in states.values()):
                break
            # a scrape that timed out on the loaded host is not what is tested here
            diag("figures moved or a scrape failed during the query (%s); again" % states)
            time.sleep(2)
        doc = json.loads(out) if rc == 0 else {"hosts": []}
        rows = {r["host"]: r for r in doc["hosts"]}
        bad = []
        for n in names:
            got = {k: rows.get(inst[n], {}).get(k) for k in before[n]}
            if got != before[n]:
                bad.append("%s: got %s\n   want %s" % (n, got, before[n]))
        tap(rc == 0 and not bad, "%s: -c mysqld per host equals each instance's /api/v1/tasks (%s)"
            % (label, ", ".join("%s %d" % (n, before[n]["processes"]) for n in names)), "\n".join(bad) + err)
        want_total = {k: sum(before[n][k] for n in names if before[n][k] != "-") for k in before[names[0]]}
        got_total = {k: rows.get("total", {}).get(k) for k in want_total}
        tap(got_total == want_total, "%s: the mysqld total equals the sum over the instances' APIs" % label,
            "got  %s\nwant %s" % (got_total, want_total))
        for n in down:
            r = rows.get(inst[n], {})
            tap(r.get("state") == "down" and all(r.get(k) == "-" for k in before[names[0]]),
                "%s: the stopped host shows as down with '-' figures, never 0" % label, json.dumps(r))
        return before, rows

    per_host, _ = mysqld_check("all up", ["a", "b", "c", "d", "vm"])
    tap(per_host["vm"]["processes"] == 4, "the VM runs 4 mysqld processes (tasks_hold 3)",
        json.dumps(per_host["vm"]))

    # recording rules on the same figures
    want = sum(v["rss_bytes"] for v in per_host.values())

    def rule_value(q):
        st, j = get_json(prom_url + "/api/v1/query?query=" + urllib.parse.quote(q), 5)
        res = j["data"]["result"] if st == 200 else []
        return float(res[0]["value"][1]) if res else None

    got = wait_for("rule", lambda: rule_value('comm:memwatch_group_rss_bytes:sum{comm="mysqld"}') == want
                   and rule_value('comm:memwatch_hosts:count{comm="mysqld"}') == 4, 60)
    tap(bool(got), "recording rules: mysqld RSS across hosts %d, on 4 hosts" % want,
        "got %s and %s" % (rule_value('comm:memwatch_group_rss_bytes:sum{comm="mysqld"}'),
                           rule_value('comm:memwatch_hosts:count{comm="mysqld"}')))

    st, j = get_json(prom_url + "/api/v1/query?query=" + urllib.parse.quote(
        "max_over_time(scrape_duration_seconds[20s])"), 5)
    if st == 200:
        diag("longest scrape in the last 20 s: " + ", ".join(
            "%s %.0f ms" % (r["metric"]["instance"], float(r["value"][1]) * 1e3) for r in j["data"]["result"]))

    # ---- top processes, fragmentation
    rc, out, err = read_cluster(prom_url, "-t", "-n", "5", "--json")
    top = json.loads(out).get("top", []) if rc == 0 else []
    b_big = next(r for r in api["b"]["rows"] if r["comm"] == "bigproc")
    ok = rc == 0 and top and top[0]["host"] == inst["b"] and top[0]["pid"] == 6002 and \
        top[0]["rss_bytes"] == b_big["rss_kb"] * 1024 and \
        all(top[i]["rss_bytes"] >= top[i + 1]["rss_bytes"] for i in range(len(top) - 1)) and len(top) == 5
    tap(ok, "-t: the largest process across the cluster first (bigproc on b), 5 rows by RSS", out + err)
    rc, out, err = read_cluster(prom_url, "--frag", "--json")
    frag = json.loads(out).get("frag", []) if rc == 0 else []
    st, fa = get_json("http://%s/api/v1/frag" % inst["a"])
    bad = []
    for z in {(o["node"], o["zone"]) for o in fa.get("orders", [])}:
        want = [o["free_blocks"] for o in sorted(fa["orders"], key=lambda o: o["order"])
                if (o["node"], o["zone"]) == z]
        row = next((r for r in frag if r["host"] == inst["a"] and r["zone"] == z[1]), None)
        got = [row["free_o%d" % k] for k in range(len(want))] if row else None
        if got != want:
            bad.append("%s: got %s want %s" % (z, got, want))
    vmz = sorted(r["zone"] for r in frag if r["host"] == inst["vm"])
    tap(rc == 0 and not bad and fa.get("orders") and "DMA32" in vmz,
        "--frag: free blocks per order of host a equal its /api/v1/frag; the VM's zones %s" % vmz, "\n".join(bad))

    # ---- bad URLs
    rc, out, err = read_cluster("http://127.0.0.1:%d" % free_port())
    tap(rc == 1 and "cannot connect" in err and not out, "an unreachable Prometheus: exit 1, 'cannot connect'", err)
    rc, out, err = read_cluster("http://%s" % inst["d"])
    tap(rc == 1 and "Prometheus" in err and not out, "a URL that is not Prometheus (a memwatchd): exit 1, says so", err)
    rc, out, err = read_cluster("ftp://127.0.0.1:1")
    tap(rc == 1 and "http://" in err, "a URL that is not http://: exit 1, says what it wants", err)
    rc, out, err = read_cluster(prom_url, "--sys")
    tap(rc == 2 and "--cluster takes" in err and not out, "--cluster with another view: usage error, exit 2",
        err[:300])

    # ---- a stopped instance
    stop(hosts["c"][1])
    down = wait_for("c down", lambda: targets_health().get(inst["c"], ("",))[0] == "down", 30)
    tap(bool(down), "Prometheus marks the stopped instance down")
    rc, out, err = read_cluster(prom_url, "-c", "mysqld")
    tap(rc == 0 and "down" in out and ("%s is down" % inst["c"]) in err,
        "text output says down, and stderr names the host", out + err)
    per_host, _ = mysqld_check("one down", ["a", "b", "d", "vm"], down=["c"])

    # ---- the cluster page, in chromium
    expect = {"hosts": {}, "comm": "mysqld", "comm_rss": {}, "comm_total": 0}
    for n in inst:
        state = "down" if n == "c" else "up"
        rss = figures(api[n])["rss_bytes"] if n in ("a", "b") else None
        expect["hosts"][inst[n]] = {"state": state, "rss_bytes": rss}
        expect["comm_rss"][inst[n]] = None if n == "c" else per_host[n]["rss_bytes"]
    expect["comm_total"] = sum(v["rss_bytes"] for v in per_host.values())
    ef = os.path.join(tmp, "expect.json")
    json.dump(expect, open(ef, "w"))
    web = os.path.join(ROOT, "userspace/memwatchd/web")
    p = subprocess.run(["timeout", "150", "node", "cluster-test.mjs", "http://%s/" % inst["a"], ef,
                        os.path.join(LOGS, "cluster-page.png")], cwd=web, capture_output=True, text=True)
    lines = p.stdout.splitlines()
    for line in lines:
        if line.startswith("ok - "):
            tap(True, "cluster page: " + line[5:])
        elif line.startswith("not ok - "):
            tap(False, "cluster page: " + line[9:])
        elif line.startswith("#"):
            print(line)
    if not any(l.startswith(("ok - ", "not ok - ")) for l in lines):
        tap(False, "cluster page test ran", p.stdout + p.stderr)
    stop(vm)


def urllib_ok(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


if __name__ == "__main__":
    main()
