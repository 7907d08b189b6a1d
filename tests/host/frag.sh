#!/usr/bin/env bash
# tests/host/frag.sh - memwatch-read --frag/--nodes/--frag-events on fixture
# files (run from the repo root after `make -C userspace`).
#   fixtures/frag/vm-6.1: module files and the kernel's buddyinfo,
#     pagetypeinfo, zoneinfo and debugfs extfrag/ files captured in a 6.1 VM
#     at one quiet moment after tests/progs/frag_frag (capture.sh): the
#     debugfs files are the oracle for both indices, from either source.
#   fixtures/frag/tiny: hand-made /proc files for the corner cases (a zone
#     with one free page, an empty node, a capped ">100000" pagetypeinfo
#     count, zones without pagetypeinfo lines), checked against an
#     independent Python transcription of mm/vmstat.c.
. tests/lib.sh

R=userspace/memwatch-read
F=tests/host/fixtures/frag
VM=$F/vm-6.1
TINY=$F/tiny
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ ! -x $R ]; then
	t_fail "memwatch-read is built" "run make -C userspace"
	t_done
fi

mod() { MEMWATCH_ROOT=$VM/module MEMWATCH_PROCFS=$VM/procfs $R "$@"; }
nomod() { MEMWATCH_ROOT=$tmp/none MEMWATCH_PROCFS=$1 $R "${@:2}"; }

# debugfs "Node 0, zone DMA32 a b c" -> "0 DMA32 a b c"
dbg() { awk '{ gsub(",", ""); l = $2 " " $4; for (i = 5; i <= NF; i++) l = l " " $i; print l }' "$1"; }
# CSV -> "node zone v0 v1 ..." of column $2
csv_by_zone() {
	python3 -c '
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
out = {}
for r in rows:
    out.setdefault((r["node"], r["zone"]), []).append(r[sys.argv[2]])
for (n, z), v in out.items():
    print(n, z, " ".join(v))' "$1" "$2"
}

# ---- module source, vm-6.1 ----
mod --frag --csv >$tmp/m.csv 2>$tmp/err
t_check $? "--frag --csv from module files" "$(cat $tmp/err)"
# The module file is one read later than the kernel files (reading it
# allocates), so the module-vs-kernel comparison is the VM test's job
# (tests/vm/frag.sh); here: the kernel's index math = the reader's, and the
# reader's = debugfs on the /proc files below.
# The module's own index strings (computed in the kernel) agree too.
t_eq "$(awk '/^# orders:/ { s = 1; next } /^#/ { s = 0 } s { print $1, $2, $3, $7, $8 }' $VM/module/frag)" \
	"$(python3 -c '
import csv, sys
for r in csv.DictReader(open(sys.argv[1])):
    print(r["node"], r["zone"], r["order"], r["unusable_index"], r["extfrag_index"])' $tmp/m.csv)" \
	"module file's indices = the reader's"

# ---- /proc source, same capture ----
nomod $VM/procfs --frag --csv >$tmp/p.csv 2>$tmp/err
t_check $? "--frag --csv from /proc files" "$(cat $tmp/err)"
grep -q "module not loaded" $tmp/err
t_check $? "the no-module note goes to stderr" "$(cat $tmp/err)"
t_eq "$(csv_by_zone $tmp/p.csv unusable_index)" "$(dbg $VM/debugfs/unusable_index)" \
	"/proc: unusable_index = debugfs"
t_eq "$(csv_by_zone $tmp/p.csv extfrag_index)" "$(dbg $VM/debugfs/extfrag_index)" \
	"/proc: extfrag_index = debugfs"
t_eq "$(csv_by_zone $tmp/p.csv free_blocks)" "$(dbg $VM/procfs/buddyinfo)" \
	"/proc: free_blocks = buddyinfo"
t_eq "$(csv_by_zone $tmp/p.csv movable)" \
	"$(awk '{ gsub(",", "") } $5 == "type" && $6 == "Movable" { l = $2 " " $4; for (i = 7; i <= NF; i++) l = l " " $i; print l }' $VM/procfs/pagetypeinfo)" \
	"/proc: movable column = pagetypeinfo's Movable line"
t_eq "$(nomod $VM/procfs --nodes --csv 2>/dev/null)" "$(mod --nodes --csv)" \
	"--nodes from zoneinfo = module's nodes"

# ---- JSON parses, with the right shape ----
mod --frag --json >$tmp/m.json
python3 - $tmp/m.json <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["memwatch"] == "frag"
assert len(d["orders"]) == 22, len(d["orders"])
assert {z["zone"] for z in d["zones"]} == {"DMA", "DMA32"}
assert isinstance(d["orders"][0]["free_blocks"], int)
assert d["counters"]["extfrag_events"] > 0
EOF
t_check $? "--frag --json parses: zones, 22 orders, counters"
nomod $VM/procfs --frag --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["counters"]["extfrag_events"] == "-", d["counters"]'
t_check $? "--no-module JSON marks event counters unavailable (\"-\")"
mod --frag --interval 0.1 --count 2 --json | python3 -c '
import json, sys
docs = [json.loads(l) for l in sys.stdin]
assert len(docs) == 2 and all("time" in d for d in docs)'
t_check $? "--interval --count 2 --json: two JSON Lines documents"

# ---- filters, text ----
t_eq "$(mod --frag --zone dma32 --order 10 --csv | tail -n +2 | cut -d, -f1-4)" "0,DMA32,10,0" \
	"--zone dma32 --order 10"
mod --frag --order 11 >/dev/null 2>$tmp/err
t_eq "$?" 1 "--order 11 on an 11-order kernel exits 1"
grep -q "orders 0..10" $tmp/err
t_check $? "... saying which orders exist" "$(cat $tmp/err)"
mod --frag >$tmp/t.txt
w=$(awk '{ if (length($0) > w) w = length($0) } END { print w }' $tmp/t.txt)
t_check $([ "$w" -le 80 ]; echo $?) "text fits 80 columns (widest $w)"
grep -q $'\033\[' $tmp/t.txt
t_check $([ $? = 1 ]; echo $?) "no colour when not a tty"
mod --frag --color always | grep -q $'\033\['
t_check $? "--color always colours the bars"
n10=$(awk '$4 == "DMA" { print $15 }' $VM/procfs/buddyinfo)
grep -Eq "^ 10 #+ +$n10 " $tmp/t.txt
t_check $? "bar chart line for DMA order 10 ($n10 blocks)" "$(grep '^ 10' $tmp/t.txt)"

# ---- --frag-events ----
pid=$(cat $VM/pid)
mod --frag-events --json >$tmp/e.json
python3 - $tmp/e.json $pid $VM/module/extfrag <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
pid = int(sys.argv[2])
want = 0
sec = None
for line in open(sys.argv[3]):
    if line.startswith("# processes:"):
        sec = "p"; continue
    if line.startswith("#"):
        sec = None; continue
    if sec == "p" and int(line.split()[0]) == pid:
        want += int(line.split()[6])
procs = {p["pid"]: p for p in d["processes"]}
assert procs[pid]["events"] == want, (procs[pid], want)
assert procs[pid]["comm"] == "frag_frag"
assert d["processes"][0]["events"] >= d["processes"][-1]["events"]
assert all(r["age_ns"] >= 0 for r in d["recent"])
assert d["summary"]["events"] >= want
EOF
t_check $? "--frag-events JSON: per-process sums of the module rows, sorted, ages"
t_eq "$(mod --frag-events -p $pid --csv | tail -n +2 | cut -d, -f1 | sort -u)" "$pid" \
	"--frag-events -p PID keeps that pid"
t_eq "$(mod --frag-events -n 3 --csv | tail -n +2 | wc -l)" 3 "--frag-events -n 3"
mod --frag-events -s nosuch >/dev/null 2>$tmp/err
t_eq "$?" 1 "unknown sort key exits 1"
nomod $VM/procfs --frag-events >/dev/null 2>$tmp/err
t_eq "$?" 1 "--frag-events without the module exits 1"
grep -q "unavailable" $tmp/err
t_check $? "... saying events are unavailable" "$(cat $tmp/err)"

# ---- version check ----
mkdir -p $tmp/v2
sed '1s/version: 1.0/version: 2.0/' $VM/module/frag >$tmp/v2/frag
cp $VM/module/status $tmp/v2/status
MEMWATCH_ROOT=$tmp/v2 $R --frag >/dev/null 2>$tmp/err
t_eq "$?" 1 "frag format 2.0 is refused"

# ---- tiny: corner cases against a Python transcription of mm/vmstat.c ----
nomod $TINY/procfs --frag --csv >$tmp/tiny.csv 2>/dev/null
t_check $? "--frag on the tiny fixture"
python3 - $tmp/tiny.csv $TINY/procfs/buddyinfo <<'EOF' >$tmp/tiny.out
import csv, sys
def contig(nr, so):
    fp = sum(b << o for o, b in enumerate(nr))
    tot = sum(nr)
    suit = sum(b << (o - so) for o, b in enumerate(nr) if o >= so)
    return fp, tot, suit
def fmt(i):
    # C's / and % truncate toward zero, as the kernel's seq_printf sees them.
    q = int(i / 1000); r = i - q * 1000
    return "%d.%03d" % (q, r)   # "%03d" of -62 is "-62", in C and here
def unusable(o, nr):
    fp, tot, suit = contig(nr, o)
    return 1000 if fp == 0 else (fp - (suit << o)) * 1000 // fp
def extfrag(o, nr):
    fp, tot, suit = contig(nr, o)
    if not tot: return 0
    if suit: return -1000
    return 1000 - (1000 + fp * 1000 // (1 << o)) // tot
zones = {}
for l in open(sys.argv[2]):
    f = l.replace(",", "").split()
    zones[(f[1], f[3])] = [int(x) for x in f[4:]]
bad = 0
for r in csv.DictReader(open(sys.argv[1])):
    nr = zones[(r["node"], r["zone"])]
    o = int(r["order"])
    exp = (fmt(unusable(o, nr)), fmt(extfrag(o, nr)), str(contig(nr, o)[2]))
    got = (r["unusable_index"], r["extfrag_index"], r["suitable_blocks"])
    if exp != got:
        print("mismatch", r["node"], r["zone"], o, "got", got, "want", exp); bad += 1
print("bad", bad)
EOF
t_eq "$(tail -n 1 $tmp/tiny.out)" "bad 0" "tiny: indices and suitable blocks = Python transcription" \
	"$(head -n 5 $tmp/tiny.out)"
t_eq "$(awk -F, '$2 == "DMA" && $3 == 1 { print $8 }' $tmp/tiny.csv)" "0.-500" \
	"one free page, order 1: extfrag_index prints 0.-500, as the kernel's does"
t_eq "$(awk -F, '$1 == 1 && $3 == 0 { print $7, $8 }' $tmp/tiny.csv)" "1.000 0.000" \
	"an empty zone: unusable 1.000, extfrag 0.000"
t_eq "$(awk -F, '$2 == "Normal" && $1 == 0 && $3 == 0 { print $9, $15 }' $tmp/tiny.csv)" "100000 1" \
	"pagetypeinfo's >100000 is 100000 with mt_capped 1"
t_eq "$(awk -F, '$2 == "DMA" && $3 == 0 { print $9, $15 }' $tmp/tiny.csv)" "- -" \
	"zone without pagetypeinfo lines: per-type columns unavailable (-)"
t_eq "$(awk -F, '$2 == "Normal" && $1 == 0 && $3 == 0 { print $12, $13 }' $tmp/tiny.csv)" "0 0" \
	"highatomic listed, CMA absent from pagetypeinfo: 0"
t_eq "$(nomod $TINY/procfs --nodes --csv 2>/dev/null | tail -n +2)" \
	"$(printf '0,1,204095,193998,2,"DMA,Normal"\n1,300000,1000,1000,1,Normal')" \
	"--nodes from zoneinfo: span, present, zones"
nomod $TINY/procfs --frag --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
r = [o for o in d["orders"] if o["zone"] == "DMA" and o["order"] == 0][0]
assert r["unmovable"] == "-" and r["free_blocks"] == 1, r'
t_check $? "JSON carries unavailable per-type counts as \"-\""

t_done
