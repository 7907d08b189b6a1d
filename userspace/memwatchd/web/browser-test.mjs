// browser-test.mjs URL [SCREENSHOT.png] - load memwatch's dashboard in Debian's
// chromium (headless, driven by playwright-core), wait for data, and check
// that the process table and the pie show what the API says. Prints TAP
// ("ok - ..." lines without numbers or plan when MW_TAP_BARE=1, for a
// caller that numbers them; tests/host/dashboard.sh).
import { chromium } from "playwright-core";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [url, shot] = process.argv.slice(2);
const bare = process.env.MW_TAP_BARE === "1";
let n = 0, failed = 0;
const ok = (cond, what, detail) => {
	n++;
	if (cond) {
		console.log(bare ? `ok - ${what}` : `ok ${n} - ${what}`);
	} else {
		failed++;
		console.log(bare ? `not ok - ${what}` : `not ok ${n} - ${what}`);
		if (detail)
			console.log(String(detail).split("\n").map(l => "#   " + l).join("\n"));
	}
};

const profile = mkdtempSync(join(tmpdir(), "mw-chromium-"));
// a fresh profile (--user-data-dir) for every run
const browser = await chromium.launchPersistentContext(profile, {
	executablePath: process.env.MW_CHROMIUM || "/usr/bin/chromium",
	headless: true,
	viewport: { width: 1400, height: 1500 },
	args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking",
		"--disable-component-update", "--disable-sync"],
});
try {
	const page = await browser.newPage();
	const offsite = [];
	const consoleErrors = [];
	page.on("request", r => { if (!r.url().startsWith(url)) offsite.push(r.url()); });
	// 503s without the module are expected answers, not page errors
	page.on("console", m => {
		if (m.type() === "error" && !m.text().startsWith("Failed to load resource"))
			consoleErrors.push(m.text());
	});
	page.on("pageerror", e => consoleErrors.push(String(e)));
	await page.goto(url, { waitUntil: "load" });
	// two polls: the second one proves live updates without reloading
	await page.waitForFunction(() => Number(document.body.dataset.polls || 0) >= 2,
		null, { timeout: 30000 });

	// Freeze the page's view of the data, then ask the API the same moment.
	const seen = await page.evaluate(() => {
		const rows = [...document.querySelectorAll("#tasks tbody tr")].map(tr =>
			Object.fromEntries([...tr.children].map(td => [td.dataset.key, td.textContent])));
		const chart = Chart.getChart(document.getElementById("pie"));
		return { rows, labels: chart.data.labels, values: chart.data.datasets[0].data,
			tasks: state.tasks, source: document.getElementById("source").textContent };
	});
	const api = await (await page.request.get(url + "api/v1/tasks")).json();
	ok(seen.rows.length > 0, `the table shows processes (${seen.rows.length})`);
	ok(seen.rows.length === seen.tasks.rows.length,
		"one table row per process of the page's last /api/v1/tasks answer",
		`table ${seen.rows.length}, JSON ${seen.tasks.rows.length}`);
	// Same pids and names as the page's JSON, and the JSON is the API's.
	const byPid = new Map(seen.tasks.rows.map(r => [String(r.pid), r]));
	const bad = seen.rows.filter(r => !byPid.has(r.pid) || byPid.get(r.pid).comm !== r.comm ||
		String(byPid.get(r.pid).mmap_calls ?? "-") !== r.mmap_calls);
	ok(bad.length === 0, "every row's pid, name and mmap calls are those of the JSON",
		JSON.stringify(bad.slice(0, 3)));
	const apiPids = new Set(api.rows.map(r => String(r.pid)));
	const missing = seen.rows.filter(r => !apiPids.has(r.pid));
	if (process.env.MW_SERVER_PROC === "/proc") {
		// The server reads this machine's /proc: a row missing from the
		// second answer must be a process that has exited (or lost its
		// address space) since; one still alive is a wrong answer.
		const alive = missing.filter(r => {
			try {
				const st = readFileSync(`/proc/${r.pid}/status`, "utf8");
				return /^VmSize:/m.test(st) && st.startsWith(`Name:\t${r.comm}`);
			} catch { return false; }
		});
		ok(alive.length === 0,
			"the table's pids are /api/v1/tasks's, read again now (those missing have exited)",
			`${missing.length} missing, still alive: ${JSON.stringify(alive.slice(0, 3))}`);
	} else {
		// Another machine's /proc (the VM through a forward): only a few
		// may go between two reads on that quiet guest.
		ok(missing.length <= 5,
			"the table's pids are /api/v1/tasks's, read again now (a few may have exited)",
			`${seen.rows.length - missing.length} of ${seen.rows.length}`);
	}

	// The pie: top 10 by mmap bytes (rss without the module) + others.
	const key = seen.tasks.rows.some(r => (r.mmap_kb || 0) > 0) ? "mmap_kb" : "rss_kb";
	const sorted = seen.tasks.rows.filter(r => (r[key] || 0) > 0)
		.sort((a, b) => b[key] - a[key] || a.pid - b.pid);
	const want = sorted.slice(0, 10).map(r => [`${r.comm} (${r.pid})`, r[key]]);
	if (sorted.length > 10)
		want.push(["others", sorted.slice(10).reduce((s, r) => s + r[key], 0)]);
	const got = seen.labels.map((l, i) => [l, seen.values[i]]);
	ok(JSON.stringify(got) === JSON.stringify(want),
		`pie slices are the 10 largest by ${key} plus others, as the JSON says`,
		`got  ${JSON.stringify(got)}\nwant ${JSON.stringify(want)}`);
	ok(got.length <= 11, `at most 11 slices (${got.length})`);

	// Sorting and filtering in the page.
	await page.click('#tasks th[data-key="pid"]');
	const pids = await page.$$eval("#tasks tbody tr", trs => trs.map(t => Number(t.dataset.pid)));
	ok(pids.every((p, i) => !i || pids[i - 1] >= p), "clicking pid sorts the table by pid (descending)");
	const one = seen.rows[0];
	await page.fill("#filter", one.comm);
	const names = await page.$$eval("#tasks tbody td[data-key=comm]", tds => tds.map(t => t.textContent));
	ok(names.length > 0 && names.every(s => s.toLowerCase().includes(one.comm.toLowerCase())),
		`filtering by '${one.comm}' keeps only matching names (${names.length})`);
	await page.fill("#filter", "");

	ok(offsite.length === 0, "the page loads nothing from elsewhere", offsite.join("\n"));
	ok(consoleErrors.length === 0, "no JavaScript errors", consoleErrors.join("\n"));
	ok(seen.source.length > 0 && (api.source === "module") === !seen.source.startsWith("no module"),
		`the page says where figures come from ('${seen.source}', API source ${api.source})`);
	if (process.env.MW_EXPECT_RECORDING) {
		// From the recording: one value of the indices and of each pressure
		// series, against the API asked the page's own query.
		const want = JSON.parse(process.env.MW_EXPECT_RECORDING);
		await page.waitForFunction(() => document.body.dataset.fragFrom && document.body.dataset.pressureFrom,
			null, { timeout: 30000 });
		const rec = await page.evaluate(() => {
			const last = a => [...a].reverse().find(v => v !== null && v !== undefined);
			const f = Chart.getChart(document.getElementById("fragidx")).data;
			const p = Chart.getChart(document.getElementById("pressure")).data;
			return { label: f.datasets[0] && f.datasets[0].label, unusable: last(f.datasets[0] ? f.datasets[0].data : []),
				extfrag: last(f.datasets[1] ? f.datasets[1].data : []),
				extfragBelowZero: (f.datasets[1] ? f.datasets[1].data : []).filter(v => v !== null && v < 0).length,
				extfragGaps: (f.datasets[1] ? f.datasets[1].data : []).filter(v => v === null).length,
				stall: last(p.datasets[0].data), fail: last(p.datasets[1].data),
				order: document.getElementById("frag-order").value,
				fragFrom: document.body.dataset.fragFrom, pressureFrom: document.body.dataset.pressureFrom };
		});
		const hist = async q => (await (await page.request.get(url + "api/v1/history?" + q)).json()).points
			.filter(p => p[1] !== null);
		const zq = `&node=${want.node}&zone=${encodeURIComponent(want.zone)}&order=${rec.order}&step=2&from=${rec.fragFrom}`;
		const u = await hist("column=unusable_pm" + zq), e = await hist("column=extfrag_pm" + zq);
		ok(rec.label === `node${want.node} ${want.zone} unusable` && u.length > 0 &&
			rec.unusable === u[u.length - 1][1] / 1000 && rec.unusable === want.unusable,
			`fragmentation chart from the recording: ${rec.label} = ${rec.unusable}, the API's last ` +
			`unusable_pm / 1000 and the recorded ${want.unusable}`, JSON.stringify({ rec, u: u.slice(-2) }));
		ok(e.length > 0 && rec.extfrag === e[e.length - 1][1] / 1000 && rec.extfrag === want.extfrag,
			`extfrag index from the recording: ${rec.extfrag}, the API's and the recorded ${want.extfrag}`,
			JSON.stringify({ rec, e: e.slice(-2) }));
		const eNoFail = e.filter(p => p[1] < 0).length;
		ok(eNoFail > 0 && rec.extfragBelowZero === 0 && rec.extfragGaps >= eNoFail,
			`extfrag index -1 ("an allocation would succeed", ${eNoFail} recorded samples) is a gap in the chart, ` +
			`not a value (${rec.extfragGaps} gaps, ${rec.extfragBelowZero} points below 0)`, JSON.stringify(rec));
		const pq = `&step=2&from=${rec.pressureFrom}`;
		const s = await hist("column=reclaim.direct_stall_ns" + pq), a = await hist("column=allocfail.failures" + pq);
		const d = (pts, k) => (pts[pts.length - 1][1] - pts[pts.length - 2][1]) / k;
		ok(s.length > 1 && rec.stall === d(s, 1e6) && rec.stall === want.stall_ms,
			`pressure timeline from the recording: last stall step ${rec.stall} ms, the API's and the recorded ${want.stall_ms}`,
			JSON.stringify({ rec, s: s.slice(-2) }));
		ok(a.length > 1 && rec.fail === d(a, 1) && rec.fail === want.failures,
			`allocation failures from the recording: last step ${rec.fail}, the API's and the recorded ${want.failures}`,
			JSON.stringify({ rec, a: a.slice(-2) }));
	}
	if (shot)
		await page.screenshot({ path: shot, fullPage: true });
} catch (e) {
	ok(false, "dashboard test ran", e.stack || e);
} finally {
	await browser.close();
	rmSync(profile, { recursive: true, force: true });
}
if (!bare)
	console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
