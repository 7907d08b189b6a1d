/*
 * app.js - memwatch's dashboard. Reads only the JSON API (/api/v1/...),
 * every POLL_MS, and redraws in place: the process table, the top-10 pie,
 * memory, fragmentation and pressure over time (kept in the page from the
 * polls), the latest mmap/munmap calls. Works without the module (figures
 * from /proc, marked so) and without a recording.
 */
"use strict";

const POLL_MS = 2000;
const KEEP_POINTS = 300;		/* 10 minutes at POLL_MS */
const PIE_TOP = 10;

const state = {
	sortKey: "rss_kb", sortAsc: false, filter: "", chosenPid: null,
	tasks: null, lastReclaim: null, lastAllocfail: null,
};
const series = { t: [], host: [], proc: [], stall: [], fail: [], unusable: {}, extfrag: {} };

function $(id) { return document.getElementById(id); }

async function api(name) {
	const r = await fetch("/api/v1/" + name, { cache: "no-store" });
	const body = await r.json();
	if (!r.ok)
		throw new Error(body.error || r.status);
	return body;
}

function kib(kb) {
	const units = ["K", "M", "G", "T"];
	let v = kb, u = 0;
	while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
	return (u ? v.toFixed(1) : String(v)) + units[u];
}

function cell(key, v) {
	if (v === null || v === undefined)
		return "-";
	if (key.endsWith("_kb"))
		return kib(v);
	if (key === "share_pm")
		return (v / 10).toFixed(1);
	if (key === "mapped_net_pct")
		return v.toFixed(1);
	if (key === "stall_ns")
		return v >= 1e6 ? (v / 1e6).toFixed(1) + "ms" : v >= 1e3 ? (v / 1e3).toFixed(0) + "us" : v + "ns";
	return String(v);
}

/* ---------------------------------------------------------- processes */

function visibleRows() {
	const f = state.filter.trim().toLowerCase();
	let rows = state.tasks ? state.tasks.rows.slice() : [];
	if (f)
		rows = rows.filter(r => String(r.pid) === f || String(r.comm).toLowerCase().includes(f));
	const k = state.sortKey, dir = state.sortAsc ? 1 : -1;
	rows.sort((a, b) => {
		const x = a[k] ?? -1, y = b[k] ?? -1;
		if (x < y) return -dir;
		if (x > y) return dir;
		return a.pid - b.pid;
	});
	return rows;
}

function drawTable() {
	const cols = [...document.querySelectorAll("#tasks th")].map(th => th.dataset.key);
	const tbody = document.querySelector("#tasks tbody");
	const frag = document.createDocumentFragment();
	for (const r of visibleRows()) {
		const tr = document.createElement("tr");
		tr.dataset.pid = r.pid;
		if (r.pid === state.chosenPid)
			tr.className = "chosen";
		for (const k of cols) {
			const td = document.createElement("td");
			td.textContent = k === "comm" ? r.comm : cell(k, r[k]);
			td.dataset.key = k;
			if (k !== "comm")
				td.className = "num";
			tr.appendChild(td);
		}
		frag.appendChild(tr);
	}
	tbody.replaceChildren(frag);
	document.querySelectorAll("#tasks th").forEach(th => {
		th.classList.toggle("sorted", th.dataset.key === state.sortKey);
		th.classList.toggle("asc", th.dataset.key === state.sortKey && state.sortAsc);
	});
	$("proc-count").textContent = tbody.children.length + " of " +
		(state.tasks ? state.tasks.rows.length : 0);
}

/*
 * The pie: which processes requested memory (mmap bytes since the module
 * saw them), the PIE_TOP largest and the rest as "others"; without the
 * module (no mmap counts) RSS instead.
 */
function pieData(rows) {
	const byMmap = rows.some(r => (r.mmap_kb || 0) > 0);
	const key = byMmap ? "mmap_kb" : "rss_kb";
	const sorted = rows.filter(r => (r[key] || 0) > 0)
		.sort((a, b) => b[key] - a[key] || a.pid - b.pid);
	const top = sorted.slice(0, PIE_TOP);
	const labels = top.map(r => r.comm + " (" + r.pid + ")");
	const values = top.map(r => r[key]);
	if (sorted.length > PIE_TOP) {
		labels.push("others");
		values.push(sorted.slice(PIE_TOP).reduce((s, r) => s + r[key], 0));
	}
	return { key, labels, values };
}

/* ------------------------------------------------------------- charts */

const palette = ["#2f6fd0", "#e07b39", "#3a9d5d", "#c0392b", "#8e5cc4", "#8c6d31",
	"#d35fb7", "#7f8c8d", "#b5bd2e", "#17a2b8", "#c8ccd2"];
const charts = {};

function lineChart(id, datasets, yTitle) {
	return new Chart($(id), {
		type: "line",
		data: { labels: series.t, datasets },
		options: {
			animation: false, responsive: true, maintainAspectRatio: false,
			elements: { point: { radius: 0 } },
			scales: { y: { beginAtZero: true, title: { display: true, text: yTitle } } },
			plugins: { legend: { position: "bottom" } },
		},
	});
}

function setupCharts() {
	charts.pie = new Chart($("pie"), {
		type: "pie",
		data: { labels: [], datasets: [{ data: [], backgroundColor: palette }] },
		options: { animation: false, responsive: true, maintainAspectRatio: false,
			plugins: { legend: { position: "right" } } },
	});
	charts.memory = lineChart("memory", [
		{ label: "host used (MiB)", data: series.host, borderColor: palette[0] },
		{ label: "process rss (MiB)", data: series.proc, borderColor: palette[1] },
	], "MiB");
	charts.frag = new Chart($("frag"), {
		type: "bar", data: { labels: [], datasets: [] },
		options: { animation: false, responsive: true, maintainAspectRatio: false,
			scales: { y: { type: "logarithmic", title: { display: true, text: "free blocks" } },
				x: { title: { display: true, text: "order" } } },
			plugins: { legend: { position: "bottom" } } },
	});
	charts.fragidx = lineChart("fragidx", [], "index");
	charts.pressure = lineChart("pressure", [
		{ label: "direct-reclaim stall (ms)", data: series.stall, borderColor: palette[3] },
		{ label: "allocation failures", data: series.fail, borderColor: palette[4] },
	], "per interval");
}

function push(arr, v) {
	arr.push(v);
	if (arr.length > KEEP_POINTS)
		arr.shift();
}

function hostUsedMiB(sys) {
	if (sys.source === "module") {
		const get = item => (sys.rows.find(r => r.node === "total" && r.item === item) || {}).kb;
		return (get("total") - get("available")) / 1024;
	}
	return (sys.values.MemTotal - sys.values.MemAvailable) / 1024;
}

function drawFrag(frag) {
	const zones = {};
	for (const r of frag.orders || []) {
		const z = "node" + r.node + " " + r.zone;
		(zones[z] = zones[z] || []).push(r);
	}
	const names = Object.keys(zones);
	const maxOrder = Math.max(0, ...(frag.orders || []).map(r => r.order));
	charts.frag.data.labels = [...Array(maxOrder + 1).keys()];
	charts.frag.data.datasets = names.map((z, i) => ({
		label: z, backgroundColor: palette[i % palette.length],
		data: zones[z].map(r => r.free_blocks),
	}));
	charts.frag.update();

	const sel = $("frag-order");
	if (!sel.options.length) {
		for (let o = 0; o <= maxOrder; o++)
			sel.add(new Option(String(o), String(o), false, o === Math.min(9, maxOrder)));
	}
	const order = Number(sel.value);
	const haveIdx = (frag.orders || []).some(r => "unusable_index" in r);
	for (const z of names) {
		const r = zones[z].find(x => x.order === order);
		for (const [key, store] of [["unusable_index", series.unusable], ["extfrag_index", series.extfrag]]) {
			store[z] = store[z] || [];
			store[z].push(haveIdx && r ? indexPoint(key, r[key]) : null);
			if (store[z].length > KEEP_POINTS)
				store[z].shift();
		}
	}
	if (!charts.fragidx.data.datasets.length && haveIdx) {
		names.forEach((z, i) => {
			charts.fragidx.data.datasets.push(
				{ label: z + " unusable", data: series.unusable[z], borderColor: palette[i % 10] },
				{ label: z + " extfrag", data: series.extfrag[z], borderColor: palette[i % 10], borderDash: [4, 3] });
		});
	}
	charts.fragidx.update();
}

// The kernel's extfrag index is -1 when an allocation of that order would
// succeed: there is no fragmentation to speak of, so the line has a gap
// there rather than a dip below zero that reads as a value.
function indexPoint(key, v, scale = 1) {
	if (v === null || v === undefined || (key === "extfrag_index" && v < 0))
		return null;
	return v / scale;
}

function drawCalls(logs) {
	const tbody = document.querySelector("#calls tbody");
	const frag = document.createDocumentFragment();
	for (const l of logs.slice(0, 50)) {
		const tr = document.createElement("tr");
		for (const [v, num] of [[l.timestamp.slice(11, 23), false], [l.pid, true],
			[l.process_name, false], [l.call_type, false],
			[kib(Math.round(l.memory_size / 1024)), true], [l.memory_size_per.toFixed(2), true]]) {
			const td = document.createElement("td");
			td.textContent = v;
			if (num)
				td.className = "num";
			tr.appendChild(td);
		}
		frag.appendChild(tr);
	}
	tbody.replaceChildren(frag);
}

/*
 * memwatchd's verdicts (/api/v1/suspects, the same as memwatch-read
 * --suspects): leak suspects' growth per hour, anomalies' rate per second.
 */
function drawSuspects(s) {
	const tbody = document.querySelector("#suspects tbody");
	const frag = document.createDocumentFragment();
	const a = s.analysis;
	const secs = ns => ns === null ? "-" : (ns / 1e9).toFixed(0) + " s";
	const rows = s.suspects.map(r => ["leak", r.pid, r.comm, r.column,
		r.growth_per_h.toFixed(1) + (r.column.endsWith("_kb") ? " KiB/h" : " /h"), secs(r.held_ns)])
		.concat(s.anomalies.map(r => ["alloc burst", r.pid, r.comm, r.metric,
			r.rate.toFixed(1) + " /s", secs(r.recent_ns)]));
	for (const row of rows) {
		const tr = document.createElement("tr");
		row.forEach((v, i) => {
			const td = document.createElement("td");
			td.textContent = v;
			if (i === 1 || i === 4)
				td.className = "num";
			tr.appendChild(td);
		});
		frag.appendChild(tr);
	}
	tbody.replaceChildren(frag);
	$("suspects-what").textContent = a.ready ?
		a.samples + " samples over " + secs(a.window_ns) + (rows.length ? "" : ": none") :
		"collecting: " + a.samples + " of " + a.min_samples + " samples";
}

/*
 * With a recording, memory over time comes from it (the last 10 minutes,
 * not only what this page has seen): all processes' RSS and the chosen one's.
 */
async function drawRecordedMemory(chosen) {
	const from = Math.floor(Date.now() / 1000) - 600;
	const q = "history?column=rss_kb&step=2&from=" + from;
	const host = await api(q);
	const proc = chosen ? await api(q + "&pid=" + chosen.pid) : { points: [] };
	const byT = new Map(proc.points.map(p => [p[0], p[1]]));
	charts.memory.data.labels = host.points.map(p => new Date(p[0]).toLocaleTimeString());
	charts.memory.data.datasets[0].label = "all processes' rss (MiB)";
	charts.memory.data.datasets[0].data = host.points.map(p => p[1] === null ? null : p[1] / 1024);
	charts.memory.data.datasets[1].data = host.points.map(p => {
		const v = byT.get(p[0]);
		return v === undefined || v === null ? null : v / 1024;
	});
}

/*
 * With a recording, the fragmentation indices and the pressure timeline
 * come from it too (the last 10 minutes): each zone's indices at the chosen
 * order, and the stall time and allocation failures per recorded step.
 */
async function drawRecordedFrag(frag) {
	const from = Math.floor(Date.now() / 1000) - 600;
	const order = Number($("frag-order").value);
	const zones = [];
	for (const r of frag.orders || [])
		if (r.order === order)
			zones.push(r);
	const sets = [];
	let labels = [];
	for (const [i, z] of zones.entries()) {
		const q = "&node=" + z.node + "&zone=" + encodeURIComponent(z.zone) + "&order=" + order +
			"&step=2&from=" + from;
		const [u, e] = await Promise.all([api("history?column=unusable_pm" + q),
			api("history?column=extfrag_pm" + q)]);
		labels = u.points.map(p => new Date(p[0]).toLocaleTimeString());
		const name = "node" + z.node + " " + z.zone;
		sets.push({ label: name + " unusable", data: u.points.map(p => indexPoint("unusable_index", p[1], 1000)),
			borderColor: palette[i % 10] },
		{ label: name + " extfrag", data: e.points.map(p => indexPoint("extfrag_index", p[1], 1000)),
			borderColor: palette[i % 10], borderDash: [4, 3] });
	}
	charts.fragidx.data.labels = labels;
	charts.fragidx.data.datasets = sets;
	document.body.dataset.fragFrom = String(from);
}

function deltas(points, scale) {
	return points.map((p, i) => i === 0 || p[1] === null || points[i - 1][1] === null ? null :
		(p[1] - points[i - 1][1]) / scale);
}

async function drawRecordedPressure() {
	const from = Math.floor(Date.now() / 1000) - 600;
	const q = "&step=2&from=" + from;
	const [stall, fail] = await Promise.all([api("history?column=reclaim.direct_stall_ns" + q),
		api("history?column=allocfail.failures" + q)]);
	charts.pressure.data.labels = stall.points.map(p => new Date(p[0]).toLocaleTimeString());
	charts.pressure.data.datasets[0].data = deltas(stall.points, 1e6);
	charts.pressure.data.datasets[1].data = deltas(fail.points, 1);
	document.body.dataset.pressureFrom = String(from);
}

/* --------------------------------------------------------------- poll */

async function poll() {
	const now = new Date();
	try {
		const [tasks, sys, frag, reclaim, allocfail, config] = await Promise.all([
			api("tasks"), api("sys"), api("frag").catch(() => null),
			api("reclaim").catch(() => null), api("allocfail").catch(() => null),
			api("config"),
		]);
		/* seed 002's share: what a process holds (mmap - munmap) of MemTotal */
		const total = tasks.values.mem_total_kb || 0;
		for (const r of tasks.rows)
			r.mapped_net_pct = r.mapped_net_kb === undefined || !total ? null : r.mapped_net_kb * 100 / total;
		state.tasks = tasks;
		const module = tasks.source === "module";
		$("source").textContent = module ? "module loaded" : "no module: figures from /proc";
		$("source").classList.toggle("warn", !module);
		$("recording").textContent = config.recording ? "recording" : "live only";
		drawTable();

		const pie = pieData(tasks.rows);
		charts.pie.data.labels = pie.labels;
		charts.pie.data.datasets[0].data = pie.values;
		charts.pie.update();
		$("pie-what").textContent = pie.key === "mmap_kb" ? "mmap bytes, top 10" : "rss (no mmap counts), top 10";

		push(series.t, now.toLocaleTimeString());
		push(series.host, hostUsedMiB(sys));
		const chosen = tasks.rows.find(r => r.pid === state.chosenPid);
		push(series.proc, chosen ? chosen.rss_kb / 1024 : null);
		$("mem-what").textContent = (chosen ? "host and " + chosen.comm + " (" + chosen.pid + ")" :
			"host (click a process)") + (config.recording ? ", last 10 minutes of the recording" : "");
		if (config.recording)
			await drawRecordedMemory(chosen);
		charts.memory.update();

		if (frag)
			drawFrag(frag);
		const stallNs = reclaim && reclaim.source === "module" ? reclaim.values.direct_stall_ns : null;
		const fails = allocfail ? allocfail.values.failures : null;
		push(series.stall, stallNs !== null && state.lastReclaim !== null ? (stallNs - state.lastReclaim) / 1e6 : null);
		push(series.fail, fails !== null && state.lastAllocfail !== null ? fails - state.lastAllocfail : null);
		state.lastReclaim = stallNs;
		state.lastAllocfail = fails;
		if (config.recording) {
			if (frag)
				await drawRecordedFrag(frag);
			await drawRecordedPressure();
		}
		charts.pressure.update();
		charts.fragidx.update();

		try {
			drawCalls(await api("memorylogs?limit=50"));
			$("calls-note").hidden = true;
		} catch (e) {
			$("calls-note").hidden = false;
			$("calls-note").textContent = "no event stream: " + e.message;
		}
		try {
			drawSuspects(await api("suspects"));
		} catch (e) {
			$("suspects-what").textContent = e.message;
		}
		$("updated").textContent = "updated " + now.toLocaleTimeString();
		$("error").hidden = true;
		document.body.dataset.polls = String(Number(document.body.dataset.polls || 0) + 1);
	} catch (e) {
		$("error").hidden = false;
		$("error").textContent = "cannot read the API: " + e.message;
	}
}

function setup() {
	setupCharts();
	document.querySelectorAll("#tasks th").forEach(th => th.addEventListener("click", () => {
		if (state.sortKey === th.dataset.key)
			state.sortAsc = !state.sortAsc;
		else {
			state.sortKey = th.dataset.key;
			state.sortAsc = th.dataset.key === "comm";
		}
		drawTable();
	}));
	$("filter").addEventListener("input", e => { state.filter = e.target.value; drawTable(); });
	document.querySelector("#tasks tbody").addEventListener("click", e => {
		const tr = e.target.closest("tr");
		if (!tr)
			return;
		state.chosenPid = Number(tr.dataset.pid);
		series.proc.fill(null);
		drawTable();
	});
	$("frag-order").addEventListener("change", () => {
		for (const s of [series.unusable, series.extfrag])
			for (const z in s)
				s[z].fill(null);
	});
	poll();
	setInterval(poll, POLL_MS);
}

setup();
