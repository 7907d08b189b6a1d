/*
 * cluster.js - the cluster page: every host the Prometheus server of
 * memwatchd --prometheus scrapes, from /api/v1/cluster only (the server
 * asks Prometheus), every POLL_MS. A host that is down shows "down" and
 * "-" figures, never zeros. A command name in the box shows that command
 * on every host and the sum (seed 000's aggregated query).
 */
"use strict";

const POLL_MS = 5000;
const ORDERS = 11;
const state = { doc: null, comm: "" };
let rssChart = null;

function $(id) { return document.getElementById(id); }

function bytes(v) {
	const units = ["B", "K", "M", "G", "T", "P"];
	let u = 0;
	while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
	return (u ? v.toFixed(1) : String(v)) + units[u];
}

function seconds(v) {
	if (v >= 1) return v.toFixed(2) + "s";
	if (v >= 1e-3) return (v * 1e3).toFixed(1) + "ms";
	if (v >= 1e-6) return (v * 1e6).toFixed(0) + "us";
	return (v * 1e9).toFixed(0) + "ns";
}

/* A figure for people; null (down, or not known there) is "-". */
function show(key, v, now) {
	if (v === null || v === undefined) return "-";
	if (key === "last_scrape") return Math.max(0, now - v).toFixed(1) + "s ago";
	if (key === "module_loaded") return v ? "yes" : "no";
	if (key.endsWith("_bytes")) return bytes(v);
	if (key.endsWith("_seconds")) return seconds(v);
	if (key === "unusable_index_o9") return v.toFixed(3);
	return String(v);
}

function fillTable(id, rows, now) {
	const ths = [...document.querySelectorAll("#" + id + " thead th")];
	const cols = ths.map(th => th.dataset.key);
	const numeric = new Set(ths.filter(th => th.classList.contains("num")).map(th => th.dataset.key));
	const frag = document.createDocumentFragment();
	for (const r of rows) {
		const tr = document.createElement("tr");
		if (r.state) tr.dataset.state = r.state;
		for (const k of cols) {
			const td = document.createElement("td");
			const v = r[k];
			td.textContent = show(k, v, now);
			td.dataset.key = k;
			td.dataset.raw = v === null || v === undefined ? "" : String(v);
			if (numeric.has(k))
				td.className = "num";
			if (k === "state" && v !== "up") td.className = "error";
			tr.appendChild(td);
		}
		frag.appendChild(tr);
	}
	document.querySelector("#" + id + " tbody").replaceChildren(frag);
}

function drawFrag(doc) {
	const head = document.querySelector("#frag-table thead tr");
	if (!head.children.length) {
		const names = ["host", "node", "zone"];
		for (let o = 0; o < ORDERS; o++) names.push("o" + o);
		for (const n of names) {
			const th = document.createElement("th");
			th.textContent = n;
			if (n.startsWith("o") || n === "node") th.className = "num";
			head.appendChild(th);
		}
	}
	const frag = document.createDocumentFragment();
	for (const z of doc.frag || []) {
		const tr = document.createElement("tr");
		const cells = [z.instance, z.node, z.zone];
		for (let o = 0; o < ORDERS; o++) cells.push(z.free_blocks[o] ?? null);
		cells.forEach((v, i) => {
			const td = document.createElement("td");
			td.textContent = v === null ? "-" : String(v);
			if (i === 1 || i > 2) td.className = "num";
			tr.appendChild(td);
		});
		frag.appendChild(tr);
	}
	document.querySelector("#frag-table tbody").replaceChildren(frag);
}

function drawChart(doc) {
	const up = doc.hosts.filter(h => h.state === "up");
	const data = {
		labels: up.map(h => h.instance),
		datasets: [{ label: (doc.comm ? doc.comm + " " : "") + "RSS (MiB)",
			data: up.map(h => (h.rss_bytes ?? 0) / 1048576), backgroundColor: "#2f6fd0" }],
	};
	if (!rssChart) {
		rssChart = new Chart($("rss-chart"), { type: "bar", data,
			options: { animation: false, responsive: true, maintainAspectRatio: false,
				plugins: { legend: { position: "bottom" } } } });
	} else {
		rssChart.data = data;
		rssChart.update();
	}
}

function draw(doc) {
	const now = doc.time;
	const total = Object.assign({ instance: "total", state: "up " + doc.totals.hosts_up + "/" + doc.totals.hosts,
		last_scrape: null, module_loaded: null, unusable_index_o9: null }, doc.totals);
	delete total.hosts;
	fillTable("host-table", doc.hosts.concat([total]), now);
	document.querySelector("#host-table tbody tr:last-child").classList.add("total");
	fillTable("command-table", doc.commands || [], now);
	fillTable("top-table", doc.top || [], now);
	drawFrag(doc);
	drawChart(doc);
	$("prometheus").textContent = "Prometheus " + doc.prometheus;
	$("hosts-up").textContent = doc.totals.hosts_up + " of " + doc.totals.hosts + " hosts up";
	$("hosts-up").classList.toggle("warn", doc.totals.hosts_up !== doc.totals.hosts);
	$("hosts-what").textContent = doc.comm ? "command " + doc.comm + " on every host" :
		"memory, pressure and fragmentation of every host Prometheus scrapes";
}

async function poll() {
	const q = state.comm ? "?comm=" + encodeURIComponent(state.comm) : "";
	try {
		const r = await fetch("/api/v1/cluster" + q, { cache: "no-store" });
		const body = await r.json();
		if (!r.ok) throw new Error(body.error || r.status);
		state.doc = body;
		draw(body);
		$("error").hidden = true;
		$("updated").textContent = "updated " + new Date().toLocaleTimeString();
	} catch (e) {
		$("error").textContent = String(e.message || e);
		$("error").hidden = false;
	}
	document.body.dataset.polls = String(Number(document.body.dataset.polls || 0) + 1);
}

$("comm").addEventListener("change", e => { state.comm = e.target.value.trim(); poll(); });
poll();
setInterval(poll, POLL_MS);
