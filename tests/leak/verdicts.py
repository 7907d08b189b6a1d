#!/usr/bin/env python3
"""verdicts.py ours|vg FILE WHICH SRC[,SRC...]: one canonical line of the
verdicts in a memwatch-leak JSON report (ours) or a valgrind log (vg, from
--leak-check=full --show-leak-kinds=all [--track-fds=yes]), for
tests/host/leak.sh to compare.

WHICH: main (the traced program) or fork (its forked children).
Per class (D, I, P, R): bytes/blocks. sites: class:file:line of the
innermost frame in the program's own sources (SRC: base names). through:
file:line+bytes, the bytes indirectly lost through the definitely lost
blocks allocated there (valgrind's "144 (48 direct, 96 indirect) bytes"). stacks:
the lines of all own-source frames of each record, innermost first.
fds: file:line of each open descriptor's own-source frame ("unknown" for
ours without a stack, and for valgrind's on /dev/zero: the test programs
open that one with a raw syscall instruction). Records allocated inside pthread_create (the
thread's dtv) count their blocks but not their bytes: the dtv's size
grows with every loaded object that uses TLS, and each tool adds its own.
"""
import json, re, sys
from collections import defaultdict

mode, path, which, srcs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split(',')
K = ['definitely_lost', 'indirectly_lost', 'possibly_lost', 'still_reachable']
L = {'definitely_lost': 'D', 'indirectly_lost': 'I', 'possibly_lost': 'P', 'still_reachable': 'R'}
summ = {k: [0, 0] for k in K}
sites, chains, fds = set(), set(), set()
lost_through = defaultdict(int)  # D site -> bytes indirectly lost through it


def own(file):
    return bool(file) and file.rsplit('/', 1)[-1] in srcs


def base(file):
    return file.rsplit('/', 1)[-1]


def record(cls, nbytes, frames, indirect=0):
    """frames: (function, file, line), innermost first"""
    mine = [f for f in frames if own(f[1])]
    if mine:
        sites.add('%s:%s:%d' % (cls, base(mine[0][1]), mine[0][2]))
        if indirect:
            lost_through['%s:%d' % (base(mine[0][1]), mine[0][2])] += indirect
        chains.add('>'.join(str(f[2]) for f in mine))
    if any(f[0] and 'pthread_create' in f[0] for f in frames):
        summ[[k for k in K if L[k] == cls][0]][0] -= nbytes


def done():
    s = ' '.join('%s=%d/%d' % (L[k], summ[k][0], summ[k][1]) for k in K)
    print('%s sites=%s stacks=%s through=%s fds=%s' % (
        s, ','.join(sorted(sites)), ','.join(sorted(chains)),
        ','.join('%s+%d' % kv for kv in sorted(lost_through.items())), ','.join(sorted(fds))))


if mode == 'ours':
    docs = [json.loads(l) for l in open(path) if l.startswith('{')]
    for d in docs:
        if d['kind'] != 'exit' or d.get('process') != which:
            continue
        for k in K:
            summ[k][0] += d['summary'][k]['bytes']
            summ[k][1] += d['summary'][k]['blocks']
        for l in d['leaks']:
            record(L[l['kind']], l['bytes'],
                   [(f['function'], f['file'], f['line']) for f in l['stack']],
                   l.get('indirect_bytes', 0))
        for r in d['fds']:
            f = next((f for f in r['stack'] if own(f['file'])), None)
            fds.add('%s:%d' % (base(f['file']), f['line']) if f else 'unknown')
    done()
    sys.exit(0)

pids, per = [], defaultdict(list)
for l in open(path, errors='replace').read().splitlines():
    m = re.match(r'==(\d+)== ?(.*)', l)
    if m:
        p = int(m.group(1))
        if p not in pids:
            pids.append(p)
        per[p].append(m.group(2).replace(',', ''))
names = {'definitely': 'D', 'indirectly': 'I', 'possibly': 'P', 'still': 'R'}
for p in (pids[:1] if which == 'main' else pids[1:]):
    cur = None
    for l in per[p] + ['']:
        m = re.match(r'\s*(definitely lost|indirectly lost|possibly lost|still reachable): (\d+) bytes in (\d+) blocks', l)
        if m:
            k = m.group(1).replace(' ', '_')
            summ[k][0] += int(m.group(2))
            summ[k][1] += int(m.group(3))
            continue
        m = re.match(r'(\d+) (?:\((\d+) direct (\d+) indirect\) )?bytes in \d+ blocks are (definitely|indirectly|possibly|still)', l)
        if m:
            cur = ['leak', names[m.group(4)], int(m.group(2) or m.group(1)), [], int(m.group(3) or 0)]
            continue
        m = re.match(r'Open (?:file descriptor|AF_\w+ socket) \d+:? ?(.*)', l)
        if m:
            if m.group(1).strip() == '/dev/zero':
                fds.add('unknown')
                cur = None
            else:
                cur = ['fd', None, 0, [], 0]
            continue
        m = re.match(r'\s*(?:at|by) 0x[0-9A-F]+: (.*?)(?: \(([^():]+):(\d+)\)| \(in .*\))?$', l)
        if m and cur:
            cur[3].append((m.group(1), m.group(2), int(m.group(3) or 0)))
            continue
        if cur and (not l.strip() or '<inherited' in l):
            if cur[0] == 'leak':
                record(cur[1], cur[2], cur[3], cur[4])
            elif '<inherited' not in l:
                f = next((f for f in cur[3] if own(f[1])), None)
                if f:
                    fds.add('%s:%d' % (base(f[1]), f[2]))
            cur = None
done()
