-- schema.sql - a memwatchd recording, schema version 2 (PRAGMA user_version).
-- Version 1 lacked run.version (db.c upgrades it).
-- Documentation/recording.md describes every table with example queries.
-- Times: *_unix_ns wall clock (CLOCK_REALTIME, ns since 1970), time_ns the
-- module's clock (CLOCK_MONOTONIC, ns). Units are in column names as in
-- /proc/memwatch (_kb KiB, _ns ns, _pm per mille, _bytes bytes).

-- What this file is: key 'magic' = 'memwatch-recording', 'schema_version'.
CREATE TABLE meta (
	key TEXT PRIMARY KEY,
	value TEXT NOT NULL
);

-- One row per memwatchd start on this file. Event seq restarts when the
-- module is reloaded, so (run_id, seq) names an event; time_ns of a run
-- turns into wall time as time_ns + mono_to_unix_ns.
CREATE TABLE run (
	id INTEGER PRIMARY KEY,
	started_unix_ns INTEGER NOT NULL,
	mono_to_unix_ns INTEGER NOT NULL,	-- CLOCK_REALTIME - CLOCK_MONOTONIC at start
	hostname TEXT NOT NULL,
	kernel TEXT NOT NULL,			-- uname -r
	module INTEGER NOT NULL,		-- 1: /proc/memwatch was there
	events INTEGER NOT NULL,		-- 1: events were read
	interval_ms INTEGER NOT NULL,
	version TEXT NOT NULL			-- memwatchd's
);

-- One row per sampling of the state (every --interval).
CREATE TABLE sample (
	id INTEGER PRIMARY KEY,
	run_id INTEGER NOT NULL REFERENCES run(id),
	time_unix_ns INTEGER NOT NULL,
	time_ns INTEGER NOT NULL,
	full INTEGER NOT NULL,		-- 1: task and thread rows of every process
	module INTEGER NOT NULL		-- 1: read from /proc/memwatch, 0: /proc only
);
CREATE INDEX sample_time ON sample(time_unix_ns);
CREATE INDEX sample_full ON sample(full, id);

-- Processes: in a full sample one row per process; otherwise only rows that
-- changed since the previous sample, and a row with gone = 1 (other columns
-- NULL) for a process that disappeared. NULL in a figure: "-" (not
-- available without the module). Columns are /proc/memwatch/tasks'.
CREATE TABLE task (
	sample_id INTEGER NOT NULL REFERENCES sample(id),
	pid INTEGER NOT NULL,
	gone INTEGER NOT NULL DEFAULT 0,
	ppid INTEGER, uid INTEGER, threads INTEGER, fds INTEGER,
	vsz_kb INTEGER, rss_kb INTEGER, rss_anon_kb INTEGER, rss_file_kb INTEGER,
	rss_shmem_kb INTEGER, swap_kb INTEGER, data_kb INTEGER, stack_kb INTEGER,
	pte_kb INTEGER, hwm_kb INTEGER, minflt INTEGER, majflt INTEGER,
	mmap_calls INTEGER, mmap_kb INTEGER, munmap_calls INTEGER,
	munmap_kb INTEGER, mapped_net_kb INTEGER, mremap_calls INTEGER,
	mremap_kb INTEGER, brk_calls INTEGER, brk_kb INTEGER,
	page_allocs INTEGER, stall_count INTEGER, stall_ns INTEGER,
	allocfail INTEGER, share_pm INTEGER,
	comm TEXT,
	PRIMARY KEY (pid, sample_id)
) WITHOUT ROWID;
CREATE INDEX task_sample ON task(sample_id);
CREATE INDEX task_comm ON task(comm, sample_id);

-- Threads, stored like task (columns of /proc/memwatch/threads).
CREATE TABLE thread (
	sample_id INTEGER NOT NULL REFERENCES sample(id),
	tid INTEGER NOT NULL,
	gone INTEGER NOT NULL DEFAULT 0,
	tgid INTEGER, minflt INTEGER, majflt INTEGER, mmap_calls INTEGER,
	mmap_kb INTEGER, munmap_calls INTEGER, munmap_kb INTEGER,
	mremap_calls INTEGER, mremap_kb INTEGER, brk_calls INTEGER,
	brk_kb INTEGER, page_allocs INTEGER, stall_count INTEGER,
	stall_ns INTEGER, allocfail INTEGER,
	comm TEXT,
	PRIMARY KEY (tid, sample_id)
) WITHOUT ROWID;
CREATE INDEX thread_sample ON thread(sample_id);

-- The text of the files the views read, as read at a sample: module files
-- by their name ('sys', 'frag', 'extfrag', 'nodes', 'reclaim', 'allocfail',
-- 'status'), /proc files as 'proc/NAME' ('proc/meminfo', 'proc/vmstat',
-- 'proc/buddyinfo', 'proc/pagetypeinfo', 'proc/zoneinfo'). A file is
-- written when its text changed and at every full sample; the text at
-- sample S is the row with the greatest sample_id <= S.
CREATE TABLE file (
	sample_id INTEGER NOT NULL REFERENCES sample(id),
	name TEXT NOT NULL,
	text TEXT NOT NULL,
	PRIMARY KEY (name, sample_id)
) WITHOUT ROWID;
CREATE INDEX file_sample ON file(sample_id);

-- "name value" counters of a sample, for history queries: every integer of
-- the unnamed section of sys, reclaim, allocfail, frag and status (source
-- = file name), or of /proc/vmstat and /proc/meminfo (source 'vmstat',
-- 'meminfo', values as the file has them: kB for meminfo) without the
-- module. Like file, a counter is written when its value changed and at
-- every full sample: its value at sample S is the row with the greatest
-- sample_id <= S.
CREATE TABLE counter (
	sample_id INTEGER NOT NULL REFERENCES sample(id),
	source TEXT NOT NULL,
	name TEXT NOT NULL,
	value INTEGER NOT NULL,
	PRIMARY KEY (source, name, sample_id)
) WITHOUT ROWID;
CREATE INDEX counter_sample ON counter(sample_id);

-- Free blocks per zone and order with both fragmentation indices, in
-- thousandths as /sys/kernel/debug/extfrag/* (-1000: the allocation
-- succeeds at once; unusable_pm 0..1000).
CREATE TABLE frag (
	sample_id INTEGER NOT NULL REFERENCES sample(id),
	node INTEGER NOT NULL,
	zone TEXT NOT NULL,
	"order" INTEGER NOT NULL,
	free_blocks INTEGER NOT NULL,
	unusable_pm INTEGER NOT NULL,
	extfrag_pm INTEGER NOT NULL,
	PRIMARY KEY (sample_id, node, zone, "order")
) WITHOUT ROWID;

-- Every line of /proc/memwatch/events, one row per event. size: len of
-- mmap/munmap, new_len of mremap, delta of brk (bytes); result 0 or
-- -errno; args the line's other key=value fields as the module wrote them.
CREATE TABLE event (
	id INTEGER PRIMARY KEY,
	run_id INTEGER NOT NULL REFERENCES run(id),
	seq INTEGER NOT NULL,
	time_ns INTEGER NOT NULL,
	time_unix_ns INTEGER NOT NULL,
	kind TEXT NOT NULL,
	pid INTEGER NOT NULL,
	tid INTEGER NOT NULL,
	size INTEGER,
	result INTEGER,
	args TEXT NOT NULL,
	comm TEXT NOT NULL
);
CREATE INDEX event_time ON event(time_unix_ns);
CREATE INDEX event_pid ON event(pid, id);
CREATE INDEX event_kind ON event(kind, id);

-- What was not recorded, counted: source 'ring' (the module overwrote
-- events before we read them: a lost line; first_seq the first missed),
-- 'queue' (memwatchd's queue was full), 'disk' (a write failed: disk full
-- or I/O error), 'samples' (samples dropped, same reasons). count events
-- (or samples) lost.
CREATE TABLE loss (
	id INTEGER PRIMARY KEY,
	run_id INTEGER NOT NULL REFERENCES run(id),
	time_unix_ns INTEGER NOT NULL,
	source TEXT NOT NULL,
	first_seq INTEGER,
	count INTEGER NOT NULL
);
