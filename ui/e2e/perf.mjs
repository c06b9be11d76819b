// Performance of the web console on a large store: how long the practice timeline's first page
// takes from its data arriving to being painted (`timeline:first-page`, measured by the UI
// itself), and how smoothly the virtualized timeline scrolls (frames, frames over 50 ms).
//
// Usage: npm run ui:build && node ui/e2e/perf.mjs
//   CHRONICLE_PERF_DB  a store seeded with ~1,000,000 events (sqlite://… or postgres://…);
//                      unset: seeds one in a temp folder (10 practices × 100,000 events; a minute or two)
//   CHRONICLE_BIN      the CLI (default target/release/chronicle)
//   CHROMIUM           the browser (default /usr/bin/chromium)
// Prints one JSON line.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

const bin = resolve(process.env.CHRONICLE_BIN ?? "target/release/chronicle");
const user = "olivia.owner";
let tmp = null;
let child = null;
let browser = null;

try {
  let db = process.env.CHRONICLE_PERF_DB;
  let seedSeconds = null;
  if (!db) {
    tmp = mkdtempSync(join(tmpdir(), "chronicle-perf-"));
    db = `sqlite://${join(tmp, "perf.db")}`;
    const t0 = Date.now();
    execFileSync(bin, ["seed", "--db", db, "--practices", "10", "--events", "1000000"], { stdio: ["ignore", "ignore", "inherit"] });
    seedSeconds = (Date.now() - t0) / 1000;
  }
  child = spawn(bin, ["serve", "--db", db, "--listen", "127.0.0.1:0", "--ui-dir", resolve("ui/dist")], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, RUST_LOG: "warn" },
  });
  const base = await new Promise((ok, ko) => {
    let out = "";
    child.stdout.on("data", (c) => {
      out += c;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) ok(m[1]);
    });
    child.on("exit", (code) => ko(new Error(`chronicle serve exited (${code}): ${out}`)));
  });
  const practices = await (await fetch(`${base}/v1/practices`, { headers: { "x-user-id": user } })).json();
  const largest = practices.practices.sort((a, b) => b.eventCount - a.eventCount)[0];
  if (!largest) throw new Error(`${user} sees no practice`);

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(`${base}/`);
  await page.evaluate((u) => localStorage.setItem("chronicle.identity", u), user);
  const t0 = Date.now();
  // A new document (not a same-page hash change) so the UI starts with the identity set.
  await page.goto(`${base}/?perf=1#/p/${largest.practiceId}/events`);
  try {
    await page.waitForFunction(() => performance.getEntriesByName("timeline:first-page").length > 0, null, { timeout: 120000 });
  } catch (error) {
    const shown = await page.evaluate(() => document.querySelector("main")?.textContent ?? "").catch(() => "");
    throw new Error(`the timeline never rendered; the page shows: ${shown.slice(0, 500)}`, { cause: error });
  }
  const wallToRows = Date.now() - t0;
  const marks = await page.evaluate(() => ({
    firstPageMs: performance.getEntriesByName("timeline:first-page")[0].duration,
    dataAtMs: performance.getEntriesByName("timeline:data")[0].startTime,
    renderedAtMs: performance.getEntriesByName("timeline:rendered")[0].startTime,
    rowsInDom: document.querySelectorAll('[data-testid="event-row"]').length,
  }));

  // rAF-driven scrolling for ~2 s: count frames and long frames.
  const scroll = await page.evaluate(
    () =>
      new Promise((done) => {
        const list = document.querySelector('[data-testid="timeline-list"]');
        const deltas = [];
        let last = null;
        let start = null;
        const frame = (now) => {
          if (start === null) start = now;
          if (last !== null) deltas.push(now - last);
          last = now;
          list.scrollTop += 120;
          if (now - start < 2000) requestAnimationFrame(frame);
          else
            done({
              frames: deltas.length,
              seconds: (now - start) / 1000,
              longFrames: deltas.filter((d) => d > 50).length,
              maxFrameMs: Math.max(...deltas),
              meanFrameMs: deltas.reduce((a, b) => a + b, 0) / deltas.length,
              scrolledPx: list.scrollTop,
            });
        };
        requestAnimationFrame(frame);
      }),
  );
  const loaded = await page.evaluate(() => document.querySelector('[data-testid="timeline-count"]')?.textContent ?? "");
  console.log(
    JSON.stringify({
      store: tmp ? "seeded: 10 practices, 1,000,000 events" : db.replace(/:[^:@/]*@/, ":***@"),
      seedSeconds,
      practiceEvents: largest.eventCount,
      timelineFirstPageMs: Number(marks.firstPageMs.toFixed(1)),
      timelineDataAtMs: Number(marks.dataAtMs.toFixed(1)),
      timelineRenderedAtMs: Number(marks.renderedAtMs.toFixed(1)),
      navigationToRowsMs: wallToRows,
      rowsInDom: marks.rowsInDom,
      scroll: { ...scroll, maxFrameMs: Number(scroll.maxFrameMs.toFixed(1)), meanFrameMs: Number(scroll.meanFrameMs.toFixed(2)), fps: Number((scroll.frames / scroll.seconds).toFixed(1)) },
      eventsLoadedAfterScroll: loaded,
    }),
  );
} catch (error) {
  console.error(`perf: FAILED: ${error.stack ?? error}`);
  process.exitCode = 1;
} finally {
  if (browser) await browser.close().catch(() => {});
  if (child && child.exitCode === null) child.kill("SIGKILL");
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}
