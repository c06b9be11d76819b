// End-to-end test of the web console: `chronicle serve` on a freshly seeded store, driven in
// Debian's headless chromium by playwright-core, through the support journeys of issue #6.
//
// Usage: npm run ui:build && node ui/e2e/web.mjs
//   CHRONICLE_BIN   the CLI (default target/release/chronicle)
//   CHRONICLE_SHOTS where screenshots go (default docs/screenshots)
//   CHROMIUM        the browser (default /usr/bin/chromium)
// Needs pdftotext (Debian's poppler-utils) for the printed report.
//
// data-testid attributes the UI offers (and this script uses):
//   header:       identity-input, identity-apply, theme-select, nav-practices, nav-registry, nav-store (desktop)
//   banner:       acting-as (who, and banner-practice: in which practice), nav-overview, nav-aggregates,
//                 nav-timeline, nav-checkpoints
//   everywhere:   error (data-code=the engine's code; error-friendly is the sentence), loading, empty
//   practices:    practices-screen, practice-search, practice-list, practice (data-practice-id),
//                 practice-sparkline, no-practices, no-match, no-identity
//   overview:     overview, activity-chart, aggregate-type-counts, aggregate-type-link, members, member,
//                 member-changed-by, former-members, former-member, event-type-counts, event-type-link
//   aggregates:   aggregates, aggregate-type-filter, aggregate-prefix, aggregate-search, aggregate-sort,
//                 aggregate-count, aggregate-list, aggregate-row (data-key=TYPE/ID), loading-more
//   aggregate:    aggregate-timeline, aggregate-version, aggregate-events, event-row (data-key=event id),
//                 event-detail (data-event-id, data-version), event-link, payload-json, state-title,
//                 state-view, state-json, diff-view, diff-row, copy-json, live-toggle, live-count (data-count)
//   timeline:     timeline, timeline-filters, filter-event-types, filter-actor-type, filter-actor-id,
//                 filter-aggregate-type, filter-from, filter-to, filter-text, filter-apply, filter-clear,
//                 timeline-newer, timeline-older, timeline-count, timeline-list, timeline-empty, event-row,
//                 live-toggle, live-count
//   checkpoints:  checkpoints, projector-row (data-projector), projector-state, projector-last-seq,
//                 projector-head-seq, projector-lag, lag-sparkline, projector-retry, projector-reset,
//                 projector-error, projector-error-event, projector-skip, skip-reason, projector-skipped,
//                 confirm, confirm-yes, projector-done
//   registry:     registry, registry-list, registry-type, registry-detail, schema-table, schema-raw
//   export:       export-open (overview, timeline, aggregate), export-dialog, export-scope, export-format-{ndjson,json,csv,html},
//                 export-from, export-to, export-bom, export-start, export-close, export-running, export-progress,
//                 export-cancel, export-cancelled, export-done (data-export-id), export-file, export-digest, export-count,
//                 export-head-hash (each value has a …-copy button)
//   chain:        chain, chain-badge (data-state=checking|intact|broken), chain-recheck, chain-head (data-seq), chain-head-hash
//   verify:       nav-verify, verify-screen, verify-drop, verify-file (web), verify-pick (desktop), verify-busy, verify-refused,
//                 verify-result (data-intact), verify-verdict, verify-first-break, verify-break-seq, verify-break-line,
//                 verify-break-problem, verify-manifest-problems, verify-events-checked, verify-gaps, verify-digest,
//                 verify-head-hash, verify-anchor, verify-anchor-result (data-held)
//   new event:    new-event, new-event-form (data-can-append), event-type-input, aggregate-input, aggregate-type,
//                 fresh-id, expected-version, actor-type, actor-id, mode-form, mode-json, payload-form (RJSF
//                 fields #root_NAME), raw-json, raw-errors, engine-violation, preview, append, preview-result
//                 (data-seq), appended (data-seq), appended-link, conflict, conflict-event, append-after,
//                 append-disabled, append-disabled-reason, duplicate-as-template (event detail),
//                 new-event-on-aggregate (aggregate timeline), nav-new-event, registry-new-event
//                 (registry detail: data-practice-id, or disabled with registry-new-event-reason),
//                 registry-new-event-elsewhere, new-event-practices, new-event-practice (data-practice-id),
//                 store-appended
//   generate:     generate, type-EVENT_TYPE, generate-count, generate-seed, generate-start, generate-progress,
//                 generate-written, generate-cancel, generate-result (data-written, data-canceled),
//                 generate-count-row, nav-generate
//   desktop only: demo-offer, store-screen, store-info, store-location, store-location-input,
//                 store-password-input, store-open
import { spawn, execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

const bin = resolve(process.env.CHRONICLE_BIN ?? "target/release/chronicle");
const shots = resolve(process.env.CHRONICLE_SHOTS ?? "docs/screenshots");
const uiDir = resolve("ui/dist");
const T = 20000;
mkdirSync(shots, { recursive: true });

function fail(message) {
  throw new Error(message);
}

/** Starts `chronicle serve` on a free port; resolves with its base URL. */
export function serve(db, extra = []) {
  const child = spawn(bin, ["serve", "--db", db, "--listen", "127.0.0.1:0", "--ui-dir", uiDir, ...extra], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, RUST_LOG: "warn" },
  });
  const ready = new Promise((resolveUrl, reject) => {
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolveUrl(m[1]);
    });
    child.stderr.on("data", (chunk) => process.stderr.write(chunk));
    child.on("exit", (code) => reject(new Error(`chronicle serve exited (${code}) before listening:\n${out}`)));
  });
  return { child, ready };
}

export async function waitHealthy(base) {
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  fail(`${base}/healthz never answered`);
}

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

async function api(base, path, body, user = "olivia.owner") {
  const res = await fetch(base + path, {
    method: body === undefined ? "GET" : "POST",
    headers: { "x-user-id": user, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) fail(`${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

const tmp = mkdtempSync(join(tmpdir(), "chronicle-web-e2e-"));
let server;
let browser;
const step = (name) => console.log(`web e2e: ${name}`);
try {
  const db = `sqlite://${join(tmp, "e2e.db")}`;
  execFileSync(bin, ["seed", "--db", db], { stdio: ["ignore", "ignore", "inherit"] });
  server = serve(db);
  const base = await server.ready;
  await waitHealthy(base);

  browser = await launch();
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const problems = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  // The console is served with a strict CSP: anything it blocks is a bug in the UI.
  page.on("console", (m) => {
    if (m.type() === "error" && /Content.Security.Policy/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
  });
  const testid = (id) => page.locator(`[data-testid="${id}"]`);
  const shot = (name) => page.screenshot({ path: join(shots, name) });

  // --- identity → practices
  step("identity and practices");
  await page.goto(`${base}/`);
  await testid("no-identity").waitFor({ timeout: T });
  const viewAs = async (who) => {
    await testid("identity-input").fill(who);
    await testid("identity-apply").click();
    await page.waitForFunction((w) => document.querySelector('[data-testid="acting-as"]')?.textContent?.includes(w), who, { timeout: T });
  };
  await viewAs("olivia.owner");
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="practice"]').length === 3, null, { timeout: T });
  await page.waitForFunction(() => /Dental|Dentistry|Orthodontics/.test(document.querySelector('[data-testid="practice-list"]')?.textContent ?? ""), null, { timeout: T });
  await testid("practice-sparkline").first().waitFor({ timeout: T });
  const first = testid("practice").first();
  const pid = await first.getAttribute("data-practice-id");
  const practiceName = (await first.locator(".name").textContent()).replace("recent", "").trim();
  await testid("practice-search").fill("no such practice");
  await testid("no-match").waitFor({ timeout: T });
  await testid("practice-search").fill(pid.slice(0, 8));
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="practice"]').length === 1, null, { timeout: T });
  await testid("practice-search").fill("");
  await shot("practices.png");

  // An aggregate with a history to fold: created, then two updates.
  const patientId = `e2e-patient-${Date.now()}`;
  const newPatient = (eventType, payload) => ({ practiceId: pid, aggregateType: "patient", aggregateId: patientId, eventType, payload, actorType: "human" });
  await api(base, "/v1/events/append-batch", {
    events: [
      newPatient("patient.created", { firstName: "Eve", lastName: "Tester", dateOfBirth: "1990-01-01", email: "eve@example.com" }),
      newPatient("patient.updated", { lastName: "Smith", phone: "+47 123456" }),
      newPatient("patient.updated", { preferredContact: "sms" }),
    ],
  });

  // --- practice → overview
  step("overview");
  await testid("practice").first().click();
  await testid("overview").waitFor({ timeout: T });
  await testid("activity-chart").waitFor({ timeout: T });
  const banner = await testid("acting-as").textContent();
  if (!banner.includes("olivia.owner") || !banner.includes(practiceName)) fail(`banner says ${JSON.stringify(banner)}`);
  await testid("aggregate-type-link").first().waitFor({ timeout: T });
  // The practice's people, named from the user directory; the picker offers them.
  await page.waitForFunction(
    () => /olivia\.owner[\s\S]*owner/.test(document.querySelector('[data-testid="members"]')?.textContent ?? ""),
    null,
    { timeout: T },
  );
  const suggested = await page.locator("#identity-suggestions option").evaluateAll((os) => os.map((o) => o.value));
  if (!suggested.includes("olivia.owner") || !suggested.includes("victor.viewer")) fail(`the picker suggests ${JSON.stringify(suggested)}`);
  await shot("overview.png");

  // --- aggregate browser → aggregate → event → state at version → diff
  step("aggregate, event, state at version, diff");
  await page.locator('[data-testid="aggregate-type-link"]', { hasText: /^patient$/ }).click();
  await testid("aggregate-row").first().waitFor({ timeout: T });
  if (!page.url().includes("type=patient")) fail(`aggregate type filter not in the URL: ${page.url()}`);
  await testid("aggregate-prefix").fill("e2e-patient");
  await testid("aggregate-search").click();
  await page.waitForFunction((id) => {
    const rows = document.querySelectorAll('[data-testid="aggregate-row"]');
    return rows.length === 1 && rows[0].getAttribute("data-key") === `patient/${id}`;
  }, patientId, { timeout: T });
  // keyboard: focus the list, Enter opens the active row
  await testid("aggregate-list").focus();
  await page.keyboard.press("Enter");
  await testid("aggregate-timeline").waitFor({ timeout: T });
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="event-row"]').length === 3, null, { timeout: T });
  await testid("event-row").nth(1).click();
  await page.waitForFunction(() => document.querySelector('[data-testid="event-detail"]')?.getAttribute("data-version") === "2", null, { timeout: T });
  if (!page.url().includes("v=2")) fail(`the selected version is not in the URL: ${page.url()}`);
  const state2 = await testid("state-view").textContent();
  for (const want of ["Eve", "Smith", "+47 123456", "eve@example.com"]) if (!state2.includes(want)) fail(`state at v2 lacks ${want}: ${state2}`);
  if (state2.includes("Tester")) fail("state at v2 still has the old last name");
  if (state2.includes("preferredContact")) fail("state at v2 includes version 3");
  const diff = await testid("diff-view").textContent();
  if (!/\/lastName\s*changed\s*"Tester"\s*"Smith"/.test(diff) || !/\/phone\s*added/.test(diff)) fail(`diff from v1 is wrong: ${diff}`);
  if ((await testid("diff-row").count()) !== 2) fail("diff from v1 should have 2 rows");
  // keyboard: j moves to version 3, Enter opens it
  await testid("aggregate-events").focus();
  await page.keyboard.press("j");
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => document.querySelector('[data-testid="event-detail"]')?.getAttribute("data-version") === "3", null, { timeout: T });
  if (!(await testid("state-view").textContent()).includes("sms")) fail("state at v3 lacks preferredContact");
  await shot("aggregate.png");
  // deep link to an event
  const v1 = (await api(base, `/v1/events/aggregate/${pid}/patient/${patientId}`)).events[0];
  await page.goto(`${base}/#/p/${pid}/e/${v1.id}`);
  await page.waitForFunction((id) => document.querySelector('[data-testid="event-detail"]')?.getAttribute("data-event-id") === id, v1.id, { timeout: T });
  if (!(await testid("diff-view").textContent()).includes("added")) fail("version 1 should diff as all added");

  // --- practice timeline: filters in the URL, reload keeps them
  step("timeline filters");
  await testid("nav-timeline").click();
  await testid("event-row").first().waitFor({ timeout: T });
  await shot("timeline.png");
  await testid("filter-event-types").selectOption(["patient.updated"]);
  await testid("filter-actor-type").selectOption("human");
  await testid("filter-text").fill("Smith");
  await testid("filter-apply").click();
  const filtered = async () => {
    await page.waitForFunction((id) => {
      const rows = [...document.querySelectorAll('[data-testid="event-row"]')];
      return rows.length >= 1 && rows.every((r) => r.textContent.includes("patient.updated")) && rows.some((r) => r.textContent.includes(id.slice(0, 8)));
    }, patientId, { timeout: T });
  };
  await filtered();
  for (const want of ["types=patient.updated", "actorType=human", "text=Smith"]) if (!page.url().includes(want)) fail(`URL lacks ${want}: ${page.url()}`);
  await page.reload();
  await filtered();
  if ((await testid("filter-text").inputValue()) !== "Smith") fail("the text filter was lost on reload");
  if ((await testid("filter-actor-type").inputValue()) !== "human") fail("the actor filter was lost on reload");
  await testid("filter-clear").click();
  await page.waitForFunction(() => !location.hash.includes("text="), null, { timeout: T });
  await testid("event-row").first().waitFor({ timeout: T });

  // --- live tail: a new event appears without reload; paused, it is counted
  step("live tail");
  const appendOne = (n) => api(base, "/v1/events/append", newPatient("patient.updated", { notes: `live ${n}` }));
  await page.waitForTimeout(500); // the live stream connects
  const live1 = await appendOne(1);
  await page.waitForSelector(`[data-testid="event-row"][data-key="${live1.id}"]`, { timeout: T });
  await testid("live-toggle").click();
  const live2 = await appendOne(2);
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="live-count"]')?.getAttribute("data-count")) >= 1, null, { timeout: T });
  if (await page.locator(`[data-testid="event-row"][data-key="${live2.id}"]`).count()) fail("a paused timeline showed the new event");
  await testid("live-toggle").click();
  await page.waitForSelector(`[data-testid="event-row"][data-key="${live2.id}"]`, { timeout: T });

  // --- checkpoints move live
  step("checkpoints");
  await testid("nav-checkpoints").click();
  await testid("projector-row").first().waitFor({ timeout: T });
  const row = page.locator('[data-testid="projector-row"][data-projector="aggregate_index"]');
  await row.waitFor({ timeout: T });
  await page.waitForFunction(() => {
    const r = document.querySelector('[data-testid="projector-row"][data-projector="aggregate_index"]');
    return r && r.querySelector('[data-testid="projector-last-seq"]').textContent === r.querySelector('[data-testid="projector-head-seq"]').textContent;
  }, null, { timeout: T });
  if (await testid("projector-reset").first().isDisabled()) fail("an owner cannot reset");
  await page.waitForTimeout(500);
  const moved = await appendOne(3);
  await page.waitForFunction((seq) => {
    const r = document.querySelector('[data-testid="projector-row"][data-projector="aggregate_index"]');
    return r && r.querySelector('[data-testid="projector-head-seq"]').textContent === String(seq) && r.querySelector('[data-testid="projector-last-seq"]').textContent === String(seq);
  }, moved.seq, { timeout: T });
  await shot("checkpoints.png");

  // --- registry
  step("registry");
  await testid("nav-registry").click();
  await page.locator('[data-testid="registry-type"]', { hasText: /^patient\.created$/ }).click();
  await testid("schema-table").waitFor({ timeout: T });
  const schema = await testid("schema-table").textContent();
  if (!/dateOfBirth\s*string\s*required\s*format date/.test(schema)) fail(`schema table: ${schema}`);
  await shot("registry.png");

  // --- auditors: the chain badge, exports from the UI verified by the CLI and the Verify screen,
  // the HTML report printed to PDF with its digest on page 1
  step("chain badge");
  await page.goto(`${base}/#/p/${pid}`);
  await page.waitForSelector('[data-testid="chain-badge"][data-state="intact"]', { timeout: T });
  const badge = await testid("chain-badge").textContent();
  if (!/chain intact · [\d,]+ events · as of/.test(badge)) fail(`the chain badge says ${badge}`);
  const liveHead = await api(base, `/v1/practices/${pid}/head`);
  await page.waitForFunction((hash) => document.querySelector('[data-testid="chain-head-hash"]')?.textContent === hash, liveHead.hash, { timeout: T });

  /** Saves the download that `action` starts into tmp, under the name the page gave it. */
  const downloaded = async (action) => {
    const [download] = await Promise.all([page.waitForEvent("download", { timeout: T }), action()]);
    const path = join(tmp, download.suggestedFilename());
    await download.saveAs(path);
    return path;
  };
  /** Opens the export dialog here, picks a format, exports and saves the file (and a CSV's manifest). */
  const exportHere = async (format) => {
    await testid("export-open").click();
    await testid("export-dialog").waitFor({ timeout: T });
    await testid(`export-format-${format}`).check();
    if (format === "csv") await shot("export-dialog.png");
    const saved = [await downloaded(() => testid("export-start").click())];
    await testid("export-done").waitFor({ timeout: T });
    if (format === "csv") saved.push(await downloaded(() => testid("export-manifest-save").click()));
    const digest = await testid("export-digest").textContent();
    const count = Number(await testid("export-count").textContent());
    await shot(`export-${format}.png`);
    await testid("export-close").click();
    return { saved, digest, count };
  };
  const cliVerify = (file) => {
    try {
      return { status: 0, out: execFileSync(bin, ["verify", file], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }) };
    } catch (error) {
      return { status: error.status, out: `${error.stdout}${error.stderr}` };
    }
  };

  step("export NDJSON from the overview, verified by the CLI and the Verify screen");
  const whole = await exportHere("ndjson");
  const ndjson = whole.saved[0];
  const firstLine = JSON.parse(readFileSync(ndjson, "utf8").split("\n")[0]);
  if (firstLine.manifest.digest !== whole.digest) fail(`the dialog shows digest ${whole.digest}, the file has ${firstLine.manifest.digest}`);
  if (firstLine.manifest.eventCount !== whole.count || whole.count !== liveHead.seq) fail(`exported ${whole.count} events, the head was at ${liveHead.seq}`);
  const verified = cliVerify(ndjson);
  if (verified.status !== 0) fail(`chronicle verify ${ndjson} exited ${verified.status}: ${verified.out}`);
  await testid("nav-verify").click();
  await testid("verify-screen").waitFor({ timeout: T });
  await testid("verify-file").setInputFiles(ndjson);
  await page.waitForSelector('[data-testid="verify-result"][data-intact="true"]', { timeout: T });
  if (!(await testid("verify-verdict").textContent()).includes(`Intact: ${whole.count} events checked`)) fail(`verdict: ${await testid("verify-verdict").textContent()}`);
  if ((await testid("verify-digest").textContent()) !== whole.digest) fail("the Verify screen shows another digest");
  await testid("verify-anchor").click();
  await page.waitForSelector('[data-testid="verify-anchor-result"][data-held="true"]', { timeout: T });
  await shot("verify.png");

  step("a tampered export is broken, and its first break named");
  const lines = readFileSync(ndjson, "utf8").split("\n");
  lines[3] = lines[3].replace(/"eventType":"([a-z])/, (_m, c) => `"eventType":"${c === "x" ? "y" : "x"}`);
  const tampered = join(tmp, "tampered.ndjson");
  writeFileSync(tampered, lines.join("\n"));
  if (cliVerify(tampered).status !== 1) fail("chronicle verify did not call the tampered file broken (exit 1)");
  await testid("verify-file").setInputFiles(tampered);
  await page.waitForSelector('[data-testid="verify-result"][data-intact="false"]', { timeout: T });
  const breakSeq = await testid("verify-break-seq").textContent();
  if (breakSeq !== String(JSON.parse(lines[3]).seq)) fail(`the first break is at seq ${breakSeq}, the edited line holds seq ${JSON.parse(lines[3]).seq}`);
  if ((await testid("verify-break-line").textContent()) !== "4") fail("the first break names line 4");
  await shot("verify-broken.png");

  step("export a filtered timeline as CSV with its manifest");
  await page.goto(`${base}/#/p/${pid}/events?types=patient.updated`);
  await testid("event-row").first().waitFor({ timeout: T });
  await testid("export-open").click();
  if (!(await testid("export-scope").textContent()).includes("patient.updated")) fail("the dialog does not carry the timeline's filter");
  await testid("export-close").click();
  const csv = await exportHere("csv");
  const csvFile = csv.saved.find((f) => f.endsWith(".csv"));
  if (!csv.saved.some((f) => f === `${csvFile}.manifest.json`)) fail(`the CSV came without its manifest: ${csv.saved}`);
  const csvVerified = cliVerify(csvFile);
  if (csvVerified.status !== 0) fail(`chronicle verify ${csvFile} exited ${csvVerified.status}: ${csvVerified.out}`);
  await testid("nav-verify").click();
  await testid("verify-file").setInputFiles(csvFile);
  await testid("verify-refused").waitFor({ timeout: T });

  step("the HTML report of an aggregate, printed to PDF, shows its digest on page 1");
  await page.goto(`${base}/#/p/${pid}/a/patient/${patientId}`);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="event-row"]').length >= 3, null, { timeout: T });
  const report = await exportHere("html");
  const printer = await browser.newPage();
  await printer.goto(`file://${report.saved[0]}`);
  const pdf = join(tmp, "report.pdf");
  await printer.pdf({ path: pdf, format: "A4" });
  await printer.close();
  const pageOne = execFileSync("pdftotext", ["-f", "1", "-l", "1", pdf, "-"], { encoding: "utf8" });
  // A long digest may wrap across lines of the printed page.
  if (!pageOne.replace(/\s+/g, "").includes(report.digest)) fail(`page 1 of the printed report lacks the digest ${report.digest}:\n${pageOne}`);
  // The overview's people were loaded (and cached) above; the next journey reads them afresh.
  await page.reload();

  // --- a removed member loses access at once; the People list says who removed them
  step("removal");
  await api(base, "/v1/events/append", {
    practiceId: pid,
    aggregateType: "membership",
    aggregateId: "fran.frontdesk",
    eventType: "membership.removed",
    payload: { userId: "fran.frontdesk", reason: "left the practice" },
    actorType: "human",
  });
  await page.goto(`${base}/#/p/${pid}`);
  await testid("former-member").first().waitFor({ timeout: T });
  const former = await testid("former-member").first().textContent();
  if (!former.includes("fran.frontdesk") || !former.includes("removed by olivia.owner") || !former.includes("left the practice")) {
    fail(`the former member row says ${former}`);
  }
  if ((await testid("member").filter({ hasText: "fran.frontdesk" }).count()) !== 0) fail("a removed member is still listed as a member");
  const grantedBy = await testid("member-changed-by").first().textContent();
  if (!/(granted|changed) by \S+/.test(grantedBy)) fail(`who gave the role: ${grantedBy}`);
  await viewAs("fran.frontdesk");
  await page.waitForFunction(() => document.querySelector('[data-testid="error"]')?.getAttribute("data-code") === "practice_not_found", null, { timeout: T });
  await viewAs("olivia.owner");

  // --- new event: for every registered type the generated form renders, and a valid payload
  // (made by the engine's generator in a scratch practice) typed in raw JSON, switched back to
  // the form and appended, appears in the timeline.
  step("new event form for every registered type");
  const headSeq = async () => (await api(base, `/v1/practices/${pid}`)).eventCount;
  const scratch = `e2e-scratch-${Date.now()}`;
  await api(base, `/v1/practices/${scratch}/generate`, { count: 50, seed: 1 });
  // Every type a person may append (the store alone appends a projector skip and an export's record).
  const registered = (await api(base, "/v1/registry")).eventTypes.filter((t) => t.appendedBy === null);
  let memberId = null;
  const openForm = async (eventType, aggregateId) => {
    await page.goto(`${base}/#/p/${pid}/new?type=${encodeURIComponent(eventType)}&aggregate=${encodeURIComponent(aggregateId)}`);
    await testid("payload-form").waitFor({ timeout: T });
    await page.waitForFunction(() => document.querySelector('[data-testid="expected-version"]')?.textContent !== "", null, { timeout: T });
  };
  const formRenderTimes = [];
  for (const type of registered) {
    const started = Date.now();
    await openForm(type.eventType, "placeholder");
    formRenderTimes.push([type.eventType, Date.now() - started]);
    const fields = await page.locator('[data-testid="payload-form"] .form-group').count();
    if (fields < 2) fail(`${type.eventType}: the form shows ${fields} fields`);
    if (type.eventType === "practice.created") {
      // A practice is created once: the form renders, the engine refuses a second one.
      continue;
    }
    // Count 2: a later type's first event may be its aggregate's opening one.
    await api(base, `/v1/practices/${scratch}/generate`, { eventTypes: [type.eventType], count: 2, seed: 7 });
    const sample = (await api(base, `/v1/practices/${scratch}/events?eventTypes=${type.eventType}&direction=backward&limit=1`)).items[0];
    if (!sample) fail(`the generator made no ${type.eventType}`);
    const payload = { ...sample.payload };
    let aggregateId = `e2e-${type.aggregateType}-${Date.now()}`;
    if (type.aggregateType === "practice") aggregateId = pid;
    if (type.eventType === "membership.created") memberId = aggregateId = payload.userId = `e2e.member.${Date.now()}`;
    if (type.eventType === "membership.role_changed") aggregateId = payload.userId = memberId;
    if (type.eventType === "membership.removed") {
      // Someone who joined for this: the member above keeps their role for role_changed.
      aggregateId = payload.userId = `e2e.leaver.${Date.now()}`;
      await api(base, "/v1/events/append", {
        practiceId: pid, aggregateType: "membership", aggregateId, eventType: "membership.created",
        payload: { userId: aggregateId, role: "viewer" }, actorType: "human",
      });
      delete payload.previousRole;
    }
    await openForm(type.eventType, aggregateId);
    await testid("mode-json").click();
    await testid("raw-json").fill(JSON.stringify(payload, null, 2));
    await testid("mode-form").click();
    await testid("payload-form").waitFor({ timeout: T });
    await testid("mode-json").click();
    const roundTrip = JSON.parse(await testid("raw-json").inputValue());
    for (const [key, value] of Object.entries(payload)) {
      if (JSON.stringify(roundTrip[key]) !== JSON.stringify(value)) fail(`${type.eventType}: switching modes lost ${key}: ${JSON.stringify(roundTrip)}`);
    }
    await testid("mode-form").click();
    await testid("append").click();
    const appended = testid("appended");
    await appended.waitFor({ timeout: T }).catch(async () => fail(`${type.eventType}: not appended: ${await page.locator('[data-testid="error"]').first().textContent().catch(() => "")}`));
    const href = await testid("appended-link").getAttribute("href");
    const eventId = decodeURIComponent(href.split("/e/")[1]);
    await page.goto(`${base}/#/p/${pid}/events?types=${encodeURIComponent(type.eventType)}`);
    await page.waitForSelector(`[data-testid="event-row"][data-key="${eventId}"]`, { timeout: T });
  }
  console.log(`web e2e: form open (navigation, reads, render) ms: ${formRenderTimes.map(([t, ms]) => `${t} ${ms}`).join(", ")}`);

  step("the form of the largest schema renders quickly");
  const fieldCount = (schema) =>
    Object.values(schema.properties ?? {}).reduce((n, p) => n + 1 + (p && typeof p === "object" ? fieldCount(p) : 0), 0);
  const largest = [...registered].sort((a, b) => fieldCount(b.schema) - fieldCount(a.schema))[0];
  const renders = [];
  for (let round = 0; round < 5; round++) {
    await openForm("user.created", `e2e-render-${round}`);
    // Picking the type in the open form: from the change to the painted form of the new schema.
    renders.push(
      await page.evaluate(async ({ type, title }) => {
        const input = document.querySelector('[data-testid="event-type-input"]');
        const setValue = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value").set;
        const started = performance.now();
        setValue.call(input, type);
        input.dispatchEvent(new Event("input", { bubbles: true }));
        while (!document.querySelector("#root__title")?.textContent?.includes(title)) await new Promise((r) => requestAnimationFrame(r));
        await new Promise((r) => requestAnimationFrame(r));
        return performance.now() - started;
      }, { type: largest.eventType, title: largest.title }),
    );
  }
  renders.sort((a, b) => a - b);
  const median = renders[2];
  console.log(`web e2e: ${largest.eventType} (${fieldCount(largest.schema)} fields) renders in ${renders.map((ms) => ms.toFixed(0)).join(", ")} ms (median ${median.toFixed(0)})`);
  // The target is 100 ms; the bound here leaves room for a loaded CI machine.
  if (median > 300) fail(`the largest form took ${median} ms to render`);

  step("invalid input: inline errors, nothing written, the form keeps the data");
  const before = await headSeq();
  await openForm("patient.created", `e2e-form-${Date.now()}`);
  await page.locator("#root_firstName").fill("Ann");
  await page.locator("#root_lastName").fill("Lee");
  await page.locator("#root_dateOfBirth").fill("1990-05-17");
  await page.locator("#root_email").fill("not-an-email");
  await page.waitForFunction(() => /format "email"/.test(document.querySelector('[data-testid="payload-form"]')?.textContent ?? ""), null, { timeout: T });
  await testid("append").click();
  await page.waitForFunction(() => document.querySelector('[data-testid="error"]')?.getAttribute("data-code") === "invalid_payload", null, { timeout: T });
  await page.waitForFunction(() => /is not a "email"/.test(document.querySelector('[data-testid="payload-form"]')?.textContent ?? ""), null, { timeout: T });
  if ((await page.locator("#root_firstName").inputValue()) !== "Ann") fail("a refused append emptied the form");
  if ((await headSeq()) !== before) fail("a refused append wrote something");
  await shot("new-event-invalid.png");

  step("preview is a dry run: nothing written");
  await page.locator("#root_email").fill("ann.lee@example.com");
  await testid("preview").click();
  await testid("preview-result").waitFor({ timeout: T });
  if (Number(await testid("preview-result").getAttribute("data-seq")) !== before + 1) fail("the preview does not show the next seq");
  if ((await headSeq()) !== before) fail("the preview wrote something");
  await shot("new-event-preview.png");
  await testid("append").click();
  await testid("appended").waitFor({ timeout: T });
  if ((await headSeq()) !== before + 1) fail("the append after a preview did not write one event");

  step("raw JSON mode checks as the form does");
  await openForm("patient.created", `e2e-raw-${Date.now()}`);
  await testid("mode-json").click();
  await testid("raw-json").fill('{"firstName": "Raw"');
  await testid("mode-form").click();
  await page.waitForFunction(() => /Not JSON/.test(document.querySelector('[data-testid="raw-errors"]')?.textContent ?? ""), null, { timeout: T });
  await testid("raw-json").fill('{"firstName": "Raw", "lastName": "Mode", "dateOfBirth": "31/12/1990"}');
  await page.waitForFunction(() => /\/dateOfBirth/.test(document.querySelector('[data-testid="raw-errors"]')?.textContent ?? ""), null, { timeout: T });
  await testid("append").click();
  await testid("engine-violation").first().waitFor({ timeout: T });
  const engineSays = await testid("raw-errors").textContent();
  if (!engineSays.includes("/payload/dateOfBirth")) fail(`raw mode shows the engine's pointer: ${engineSays}`);
  await testid("raw-json").fill('{"firstName": "Raw", "lastName": "Mode", "dateOfBirth": "1990-12-31"}');
  await testid("append").click();
  await testid("appended").waitFor({ timeout: T });

  step("a concurrent append is a conflict, with the events in between");
  await openForm("patient.updated", patientId);
  const expectedText = await testid("expected-version").textContent();
  await api(base, "/v1/events/append", newPatient("patient.updated", { notes: "someone else, meanwhile" }), "adam.admin");
  await page.locator("#root_notes").fill("mine");
  await testid("append").click();
  await testid("conflict").waitFor({ timeout: T });
  const conflictText = await testid("conflict").textContent();
  if (!conflictText.includes("adam.admin") || (await testid("conflict-event").count()) < 1) fail(`the conflict shows ${conflictText} (form expected: ${expectedText})`);
  if ((await page.locator("#root_notes").inputValue()) !== "mine") fail("the conflict emptied the form");
  await shot("new-event-conflict.png");
  await testid("append-after").click();
  await testid("append").click();
  await testid("appended").waitFor({ timeout: T });

  step("new event from an aggregate, and duplicate as template");
  await page.goto(`${base}/#/p/${pid}/a/patient/${patientId}`);
  await testid("new-event-on-aggregate").click();
  await testid("aggregate-input").waitFor({ timeout: T });
  if ((await testid("aggregate-input").inputValue()) !== patientId) fail("the form did not start on the aggregate");
  const offered = await page.locator("#event-type-options option").evaluateAll((os) => os.map((o) => o.value));
  if (offered.length === 0 || !offered.every((t) => t.startsWith("patient."))) fail(`from a patient the form offers ${offered}`);
  await page.goto(`${base}/#/p/${pid}/a/patient/${patientId}?v=1`);
  await testid("duplicate-as-template").click();
  await testid("payload-form").waitFor({ timeout: T });
  if ((await testid("event-type-input").inputValue()) !== "patient.created") fail("the template's type was not taken");
  if ((await page.locator("#root_firstName").inputValue()) !== "Eve") fail("the template's payload was not taken");

  step("new event from the registry: the type chosen, in the practice opened last");
  await testid("nav-registry").click();
  // Only the store appends an export's record: the action is there, disabled, with the reason.
  await page.locator('[data-testid="registry-type"]', { hasText: /^audit\.export_created$/ }).click();
  await testid("registry-new-event-reason").waitFor({ timeout: T });
  if (!(await testid("registry-new-event").isDisabled())) fail("the registry offers a New event of a type only the store appends");
  if (!(await testid("registry-new-event-reason").textContent()).includes("Only the store appends")) fail("no reason why audit.export_created has no form");
  await page.locator('[data-testid="registry-type"]', { hasText: /^patient\.created$/ }).click();
  // The store-only type's disabled button stays until the detail re-renders: wait for the link.
  await page.locator('a[data-testid="registry-new-event"]').waitFor({ timeout: T });
  if ((await testid("registry-new-event").getAttribute("data-practice-id")) !== pid) fail("the registry's New event is not in the practice opened last");
  await testid("registry-new-event").click();
  await testid("payload-form").waitFor({ timeout: T });
  if ((await testid("event-type-input").inputValue()) !== "patient.created") fail("the registry's type was not chosen");
  if ((await testid("aggregate-type").textContent()) !== "patient") fail("the aggregate type did not follow from the registry's type");
  if (!(await testid("banner-practice").textContent()).includes(practiceName)) fail("the registry's form is not in the practice opened last");
  // Another practice: the form asks which, and keeps the type.
  await page.goBack();
  await testid("registry-new-event-elsewhere").click();
  await page.locator(`[data-testid="new-event-practice"][data-practice-id="${pid}"]`).click();
  await testid("payload-form").waitFor({ timeout: T });
  if ((await testid("event-type-input").inputValue()) !== "patient.created") fail("choosing the practice lost the registry's type");
  await testid("fresh-id").click();
  const registryPatient = await testid("aggregate-input").inputValue();
  await page.locator("#root_firstName").fill("Reggie");
  await page.locator("#root_lastName").fill("Stry");
  await page.locator("#root_dateOfBirth").fill("1985-03-09");
  await testid("append").click();
  await testid("appended").waitFor({ timeout: T });
  const fromRegistry = decodeURIComponent((await testid("appended-link").getAttribute("href")).split("/e/")[1]);
  await testid("nav-timeline").click();
  await page.waitForSelector(`[data-testid="event-row"][data-key="${fromRegistry}"]`, { timeout: T });
  if (!(await page.locator(`[data-testid="event-row"][data-key="${fromRegistry}"]`).textContent()).includes(registryPatient.slice(0, 8))) {
    fail("the timeline row of the registry's event does not name its patient");
  }

  step("generate events: progress, counts, cancel");
  await page.goto(`${base}/#/p/${pid}/generate`);
  await testid("generate-start").waitFor({ timeout: T });
  const beforeGenerate = await headSeq();
  await testid("generate-count").fill("10000");
  await testid("generate-seed").fill("42");
  await testid("generate-start").click();
  await testid("generate-progress").waitFor({ timeout: T });
  await page.waitForFunction(() => document.querySelector('[data-testid="generate-result"]')?.getAttribute("data-written") === "10000", null, { timeout: 120_000 });
  const counted = await page.locator('[data-testid="generate-count-row"] td.num').allTextContents();
  const sum = counted.reduce((n, t) => n + Number(t.replace(/\D/g, "")), 0);
  if (sum !== 10000) fail(`the counts add up to ${sum}`);
  if ((await headSeq()) !== beforeGenerate + 10000) fail("the store did not grow by 10,000 events");
  await shot("generate.png");
  await testid("generate-count").fill("20000");
  await testid("generate-start").click();
  await testid("generate-cancel").click();
  await page.waitForFunction(() => document.querySelector('[data-testid="generate-result"]')?.getAttribute("data-canceled") === "true", null, { timeout: 60_000 });
  const canceledAt = Number(await testid("generate-result").getAttribute("data-written"));
  if (!(canceledAt < 20000) || (await headSeq()) !== beforeGenerate + 10000 + canceledAt) fail(`cancel wrote ${canceledAt}`);

  step("a viewer and a non-member see the form disabled, with the engine's reason");
  await viewAs("victor.viewer");
  await page.goto(`${base}/#/p/${pid}/new?type=patient.created`);
  await testid("append-disabled-reason").waitFor({ timeout: T });
  const reason = await testid("append-disabled-reason").textContent();
  if (!reason.includes("viewer may read but not append")) fail(`the viewer is told ${reason}`);
  if (!(await testid("append").isDisabled())) fail("a viewer can press Append");
  await shot("new-event-viewer.png");
  await viewAs("not.a.member");
  await page.goto(`${base}/#/p/${pid}/new?type=patient.created`);
  await testid("append-disabled-reason").waitFor({ timeout: T });
  const strangerReason = await testid("append-disabled-reason").textContent();
  if (!strangerReason.includes("not found or no access")) fail(`a non-member is told ${strangerReason}`);
  if (!(await testid("append").isDisabled())) fail("a non-member can press Append");
  await viewAs("olivia.owner");

  // --- a viewer may not reset; a non-member sees nothing
  step("roles and non-members");
  await viewAs("victor.viewer");
  await page.goto(`${base}/#/p/${pid}/checkpoints`);
  await testid("projector-row").first().waitFor({ timeout: T });
  await page.waitForFunction(() => document.querySelector('[data-testid="projector-reset"]')?.disabled === true, null, { timeout: T });
  await viewAs("not.a.member");
  await page.waitForFunction(() => document.querySelector('[data-testid="error"]')?.getAttribute("data-code") === "practice_not_found", null, { timeout: T });
  const refusal = await testid("error-friendly").first().textContent();
  if (!refusal.includes("You (not.a.member) are not a member of this practice")) fail(`refusal says ${refusal}`);
  await testid("nav-practices").click();
  await testid("no-practices").waitFor({ timeout: T });
  if ((await testid("practice").count()) !== 0) fail("a non-member sees practices");

  // --- the server goes away: a clear message
  step("server stopped");
  server.child.kill("SIGTERM");
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("chronicle serve did not exit within 30 s of SIGTERM")), 30_000);
    server.child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
  });
  await viewAs("olivia.owner");
  await page.waitForFunction(() => document.querySelector('[data-testid="error"]')?.getAttribute("data-code") === "unavailable", null, { timeout: T });
  const down = await testid("error").first().textContent();
  if (!down.includes("cannot be reached")) fail(`the outage message is ${down}`);

  if (problems.length) fail(problems.join("\n"));
  console.log(`web e2e: ok (screenshots in ${shots})`);
} catch (error) {
  console.error(`web e2e: FAILED: ${error.stack ?? error}`);
  // What the page showed when it failed.
  const pages = browser ? browser.contexts().flatMap((c) => c.pages()) : [];
  if (pages[0]) await pages[0].screenshot({ path: join(shots, "failure.png") }).catch(() => {});
  process.exitCode = 1;
} finally {
  if (browser) await browser.close().catch(() => {});
  if (server && server.child.exitCode === null) server.child.kill("SIGKILL");
  rmSync(tmp, { recursive: true, force: true });
}
