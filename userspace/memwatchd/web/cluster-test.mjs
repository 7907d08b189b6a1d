// cluster-test.mjs URL EXPECT.json [SCREENSHOT.png] - the cluster page
// (/cluster.html) in Debian's chromium, headless, via playwright-core. EXPECT
// (written by tests/cluster/cluster_test.py) holds the facts the page must
// show: {"hosts": {INSTANCE: {"state", "rss_bytes" or null: not checked}},
// "comm": NAME, "comm_rss": {INSTANCE: bytes or null}, "comm_total": bytes}.
// Prints bare TAP ("ok - ..."), numbered by the caller.
import { chromium } from "playwright-core";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [url, expectPath, shot] = process.argv.slice(2);
const expect = JSON.parse(readFileSync(expectPath, "utf8"));
let failed = 0;
const ok = (cond, what, detail) => {
	console.log(`${cond ? "ok" : "not ok"} - ${what}`);
	if (!cond) {
		failed++;
		if (detail)
			console.log(String(detail).split("\n").map(l => "#   " + l).join("\n"));
	}
};

// Rows of the host table as {instance: {key: {text, raw}}}.
const hostRows = page => page.$$eval("#host-table tbody tr", trs => Object.fromEntries(trs.map(tr => {
	const cells = Object.fromEntries([...tr.children].map(td => [td.dataset.key,
		{ text: td.textContent, raw: td.dataset.raw }]));
	return [cells.instance.text, cells];
})));

const profile = mkdtempSync(join(tmpdir(), "mw-chromium-"));
const browser = await chromium.launchPersistentContext(profile, {
	executablePath: process.env.MW_CHROMIUM || "/usr/bin/chromium",
	headless: true,
	viewport: { width: 1500, height: 1400 },
	args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
	const page = await browser.newPage();
	const offsite = [], errors = [];
	page.on("request", r => { if (!r.url().startsWith(url)) offsite.push(r.url()); });
	// the browser's own /favicon.ico 404; API errors show in #error (checked below)
	page.on("console", m => {
		if (m.type() === "error" && !m.text().startsWith("Failed to load resource"))
			errors.push(m.text());
	});
	page.on("pageerror", e => errors.push(String(e)));
	await page.goto(url + "cluster.html", { waitUntil: "load" });
	await page.waitForFunction(() => Number(document.body.dataset.polls || 0) >= 1, null,
		{ timeout: 60000 });
	const rows = await hostRows(page);
	const doc = await page.evaluate(() => state.doc);
	const want = Object.keys(expect.hosts).sort();
	const got = Object.keys(rows).filter(k => k !== "total").sort();
	ok(JSON.stringify(got) === JSON.stringify(want), `the page lists every host (${want.length}) and a total row`,
		`got  ${got}\nwant ${want}`);
	for (const inst of want) {
		const e = expect.hosts[inst], r = rows[inst];
		if (!r)
			continue;
		ok(r.state.text === e.state, `${inst}: shown ${e.state}`, `shown '${r.state.text}'`);
		if (e.state !== "up") {
			const figs = Object.entries(r).filter(([k]) => !["instance", "state", "last_scrape"].includes(k));
			ok(figs.every(([, c]) => c.text === "-"), `${inst}: a host that is down shows '-', never 0`,
				JSON.stringify(figs));
		} else if (e.rss_bytes !== null) {
			ok(Number(r.rss_bytes.raw) === e.rss_bytes, `${inst}: rss ${e.rss_bytes} as its own /api/v1/tasks says`,
				`shown ${r.rss_bytes.raw}`);
		}
	}
	// the table is the API document, cell for cell
	const mismatch = [];
	for (const h of doc.hosts)
		for (const k of ["processes", "rss_bytes", "rss_anon_bytes", "mapped_net_bytes", "mmap_calls"])
			if (rows[h.instance] && rows[h.instance][k].raw !== (h[k] === null ? "" : String(h[k])))
				mismatch.push(`${h.instance} ${k}: ${rows[h.instance][k].raw} vs ${h[k]}`);
	ok(mismatch.length === 0, "host cells hold the figures of /api/v1/cluster", mismatch.join("\n"));
	const cmds = await page.$$eval("#command-table tbody tr td[data-key=comm]", tds => tds.map(t => t.textContent));
	ok(cmds.includes(expect.comm), `the per-command table has ${expect.comm}`, cmds.join(","));
	const top = await page.$$eval("#top-table tbody tr", trs => trs.length);
	ok(top > 0 && top === (doc.top || []).length, `largest processes across the cluster: ${top} rows`);
	const fragRows = await page.$$eval("#frag-table tbody tr", trs => trs.length);
	ok(fragRows === (doc.frag || []).length && fragRows > 0, `free blocks per host and zone: ${fragRows} rows`);

	// seed 000's question in the page: one command on every host, summed
	await page.fill("#comm", expect.comm);
	await page.dispatchEvent("#comm", "change");
	await page.waitForFunction(c => state.doc && state.doc.comm === c, expect.comm, { timeout: 60000 });
	const crow = await hostRows(page);
	for (const [inst, rss] of Object.entries(expect.comm_rss)) {
		if (rss === null) {
			ok(crow[inst] && crow[inst].rss_bytes.text === "-", `${expect.comm} on ${inst} (down): '-'`);
			continue;
		}
		ok(crow[inst] && Number(crow[inst].rss_bytes.raw) === rss,
			`${expect.comm} on ${inst}: rss ${rss}`, crow[inst] && crow[inst].rss_bytes.raw);
	}
	ok(crow.total && Number(crow.total.rss_bytes.raw) === expect.comm_total,
		`${expect.comm} summed over the cluster: ${expect.comm_total}`, crow.total && crow.total.rss_bytes.raw);
	ok(offsite.length === 0, "the page loads nothing from elsewhere", offsite.join("\n"));
	ok(errors.length === 0, "no JavaScript errors", errors.join("\n"));
	ok(await page.$eval("#error", e => e.hidden), "no API error shown",
		await page.$eval("#error", e => e.textContent));
	if (shot)
		await page.screenshot({ path: shot, fullPage: true });
} catch (e) {
	ok(false, "cluster page test ran", e.stack || e);
} finally {
	await browser.close();
	rmSync(profile, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
