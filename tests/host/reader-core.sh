#!/usr/bin/env bash
# Host tests of memwatch-read's core: format-version check, the file parser,
# JSON/CSV writers and the error paths (bad flag, missing module).
# Fixtures stand in for /proc/memwatch through $MEMWATCH_ROOT.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh

read=userspace/memwatch-read
fx=tests/host/fixtures/core
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A bad flag: one line naming it and a --help pointer on stderr, exit 2,
# nothing on stdout (tests/host/reader-options.sh checks the rest).
$read --no-such-flag >"$tmp/out" 2>"$tmp/err"
t_eq "$?" 2 "bad flag exits 2"
grep -q "unknown option '--no-such-flag'" "$tmp/err" && ! grep -q '^Usage:' "$tmp/err"
t_check $? "bad flag names the flag, without the whole usage text"
t_eq "$(wc -c <"$tmp/out")" 0 "bad flag prints nothing on stdout"

for bad in "-n 0" "-n x" "-p -3" "-i 0" "--count abc" "--order 99" "--color maybe"; do
	# shellcheck disable=SC2086
	$read -t $bad >/dev/null 2>&1
	t_eq "$?" 2 "bad value '$bad' is a usage error"
done

$read --help >"$tmp/out" 2>"$tmp/err"
t_eq "$?" 0 "--help exits 0"
grep -q '^Examples:' "$tmp/out"
t_check $? "--help prints usage with examples on stdout"

# Module missing: one clear line naming the directory, exit 1.
MEMWATCH_ROOT=$fx/empty/none $read --status >"$tmp/out" 2>"$tmp/err"
t_eq "$?" 1 "status without the module exits 1"
grep -q "not found: is the module loaded?" "$tmp/err"
t_check $? "status without the module says the module is not loaded"

# A format major version this reader does not know is refused.
MEMWATCH_ROOT=$fx/v2 $read --status >"$tmp/out" 2>"$tmp/err"
t_eq "$?" 1 "unknown major format version exits 1"
grep -q "format version 2.0, this reader knows 1.x" "$tmp/err"
t_check $? "unknown major format version is named in the error"

# A newer minor version is read; the last column keeps its spaces.
MEMWATCH_ROOT=$fx/v1 $read --status --json >"$tmp/json" 2>"$tmp/err"
t_eq "$?" 0 "status of a 1.x module reads"
python3 - "$tmp/json" >"$tmp/py" 2>&1 <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["memwatch"] == "status", doc
assert doc["module"]["memory_held_bytes"] == 4096, doc["module"]
assert doc["module"]["kernel_release"] == "6.1.0-56-amd64"
probes = doc["probe"]
assert len(probes) == 2, probes
assert probes[1]["detail"] == "no such symbol on this kernel; also tried shrink_page_list", probes[1]
assert probes[0]["state"] == "attached"
print("fine")
PY
grep -qx fine "$tmp/py"
t_check $? "status JSON parses back with the right values" "$(cat "$tmp/py")"

MEMWATCH_ROOT=$fx/v1 $read --status --csv >"$tmp/csv"
python3 - "$tmp/csv" >"$tmp/py" 2>&1 <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
assert rows[0] == ["name", "value"], rows[0]
assert ["memory_held_bytes", "4096"] in rows, rows
print("fine")
PY
grep -qx fine "$tmp/py"
t_check $? "status CSV parses back" "$(cat "$tmp/py")"

# Human units in text, exact numbers with -b.
MEMWATCH_ROOT=$fx/v1 $read --status >"$tmp/out"
grep -Eq '^memory_held_bytes +4\.0K$' "$tmp/out"
t_check $? "text shows memory_held_bytes in human units"
MEMWATCH_ROOT=$fx/v1 $read --status -b >"$tmp/out"
grep -Eq '^memory_held_bytes +4096$' "$tmp/out"
t_check $? "-b shows exact bytes"

$read --version | grep -Eq '^memwatch-read [0-9]+\.[0-9]+\.[0-9]+ \(format 1\.[0-9]+\)$'
t_check $? "--version names the program and format version"
t_done
