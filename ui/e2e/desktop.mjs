// End-to-end test of the real desktop window: tauri-driver (with Debian's WebKitWebDriver)
// starts the built app under Xvfb on an empty temporary data folder, and WebdriverIO walks
// the first-run journey: load the demo data, view as a member and see the practices, open
// one and see its events (and one appended by `chronicle append` in another process appear
// without a reload), the chain badge, an export written by the app (checked by the app and by
// `chronicle verify`), an aggregate, an event and the state at its version, append one event
// with the New event form, view as a
// non-member and see none. Then the settings that must last: a theme, an identity, another
// store location (and, when scripts/with-postgres.sh provides a server, PostgreSQL with its
// password given three ways, none of which may reach the settings file); quit; start again;
// all remembered.
//
// Usage (scripts/e2e-desktop.sh sets this up): CHRONICLE_APP=path/to/chronicle-app \
//   TAURI_DRIVER=path/to/tauri-driver node ui/e2e/desktop.mjs
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { remote } from "webdriverio";

const app = resolve(process.env.CHRONICLE_APP ?? "target/release/chronicle-app");
const driverBin = process.env.TAURI_DRIVER ?? "tauri-driver";
const shots = resolve(process.env.CHRONICLE_SHOTS ?? "target/e2e");
const port = Number(process.env.TAURI_DRIVER_PORT ?? 4444);
mkdirSync(shots, { recursive: true });

const data = mkdtempSync(join(tmpdir(), "chronicle-e2e-"));
const cli = resolve(process.env.CHRONICLE_BIN ?? "target/release/chronicle");
const driver = spawn(driverBin, ["--port", String(port), "--native-port", String(port + 1)], {
  env: { ...process.env, XDG_DATA_HOME: data, XDG_CONFIG_HOME: data, RUST_LOG: "warn" },
  stdio: ["ignore", "inherit", "inherit"],
});

function fail(message) {
  throw new Error(message);
}

async function waitForDriver() {
  for (let i = 0; i < 100; i++) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/status`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  fail(`tauri-driver did not listen on port ${port}`);
}

const session = () =>
  remote({
    hostname: "127.0.0.1",
    port,
    logLevel: "warn",
    capabilities: {
      "tauri:options": { application: app },
      "wdio:enforceWebDriverClassic": true,
    },
  });
const settingsFile = join(data, "dev.chronicle.app", "settings.json");
const savedSettings = () => (existsSync(settingsFile) ? readFileSync(settingsFile, "utf8") : "");

let browser;
try {
  await waitForDriver();
  browser = await session();
  const title = await browser.getTitle();
  if (title !== "Chronicle") fail(`window title is ${JSON.stringify(title)}, expected "Chronicle"`);

  // First run on an empty store: the demo data offer.
  const offer = await browser.$('[data-testid="demo-offer"] button');
  await offer.waitForDisplayed({ timeout: 20000 });
  await browser.saveScreenshot(join(shots, "desktop-first-run.png"));
  await offer.click();
  await browser.$('[data-testid="demo-offer"]').waitForExist({ reverse: true, timeout: 60000 });

  // A member sees the demo practices.
  const viewAs = async (identity) => {
    const input = await browser.$('[data-testid="identity-input"]');
    await input.clearValue();
    await input.setValue(identity);
    await browser.$('[data-testid="identity-apply"]').click();
    await browser.waitUntil(
      async () => (await browser.$('[data-testid="acting-as"]').getText()).includes(identity),
      { timeout: 10000, timeoutMsg: `the banner never showed ${identity}` },
    );
  };
  await viewAs("olivia.owner");
  await browser.waitUntil(async () => (await browser.$$('[data-testid="practice"]').length) === 3, {
    timeout: 20000,
    timeoutMsg: "olivia.owner should see the 3 demo practices",
  });
  // Names come from the practice directory once the runner has caught up.
  await browser.waitUntil(
    async () => (await browser.$('[data-testid="practice-list"]').getText()).match(/Dental|Dentistry|Orthodontics/),
    { timeout: 30000, timeoutMsg: "practice names never appeared" },
  );
  await browser.$$('[data-testid="practice"]')[0].click();
  await browser.$('[data-testid="overview"]').waitForDisplayed({ timeout: 20000 });
  // The overview's counts add up to the practice's events (the daily activity read model
  // against the practice head).
  const digits = (text) => Number(String(text).replace(/[^0-9]/g, ""));
  await browser.waitUntil(
    async () => {
      const head = await browser.$('[data-testid="overview"] .screen-head .muted').getText().catch(() => "");
      const total = digits(head.split("events")[0]);
      const cells = await browser.$$('[data-testid="event-type-counts"] td.num');
      let sum = 0;
      for (const cell of cells) sum += digits(await cell.getText());
      return total > 0 && sum === total;
    },
    { timeout: 30000, timeoutMsg: "the overview's event-type counts never added up to the practice's events" },
  );
  await browser.$('[data-testid="nav-timeline"]').click();
  await browser.waitUntil(async () => (await browser.$$('[data-testid="event-row"]').length) > 0, {
    timeout: 20000,
    timeoutMsg: "the practice's events never appeared",
  });
  await browser.saveScreenshot(join(shots, "desktop-practice.png"));

  // Another process appends to the same store file: the open timeline shows it, no reload.
  const practiceId = decodeURIComponent((await browser.getUrl()).match(/#\/p\/([^/]+)/)[1]);
  const store = `sqlite://${join(data, "dev.chronicle.app", "chronicle.db")}`;
  const appended = {
    practiceId,
    aggregateType: "patient",
    aggregateId: "e2e-live", // short: the timeline shows eight characters of an id
    eventType: "patient.created",
    payload: { firstName: "Otto", lastName: "Process", dateOfBirth: "1980-01-01" },
    actorType: "human",
  };
  execFileSync(cli, ["append", "--db", store, "--as", "olivia.owner"], { input: JSON.stringify(appended) });
  await browser.waitUntil(async () => (await browser.$('[data-testid="timeline"]').getText()).includes("patient/e2e-live"), {
    timeout: 30000,
    timeoutMsg: "an event appended by another process never appeared in the open timeline",
  });

  // --- Auditors: the chain badge (the live verify and the head, through the window's own
  // commands and capability), then an export written by the app and checked by the app and by
  // the CLI. The save and open dialogs are native (GTK) windows out of WebDriver's reach, so the
  // export is started through the same command the Export dialog calls with the chosen path.
  await browser.$('[data-testid="nav-overview"]').click();
  await browser.waitUntil(async () => (await browser.$('[data-testid="chain-badge"]').getAttribute("data-state")) === "intact", {
    timeout: 30000,
    timeoutMsg: "the chain badge never said intact",
  });
  const headHash = await browser.$('[data-testid="chain-head-hash"]').getText();
  if (!/^[0-9a-f]{64}$/.test(headHash)) fail(`the head hash shown is ${JSON.stringify(headHash)}`);
  await browser.$('[data-testid="export-open"]').click();
  await browser.$('[data-testid="export-dialog"]').waitForDisplayed({ timeout: 10000 });
  await browser.$('[data-testid="export-format-csv"]').click();
  await browser.$('[data-testid="export-bom"]').waitForDisplayed({ timeout: 10000 });
  await browser.saveScreenshot(join(shots, "desktop-export.png"));
  await browser.$('[data-testid="export-close"]').click();
  const invoke = (cmd, args) => browser.execute((c, a) => globalThis.__TAURI_INTERNALS__.invoke(c, a), cmd, args);
  const exported = join(data, "patients.csv");
  const exportManifest = await invoke("export_practice", {
    practiceId,
    request: { format: "csv", filter: { eventTypes: ["patient.created"] } },
    path: exported,
  });
  if (!existsSync(exported) || !existsSync(`${exported}.manifest.json`)) fail("the app did not write the CSV and its manifest");
  execFileSync(cli, ["verify", exported], { stdio: ["ignore", "ignore", "inherit"] }); // exit 0: intact
  const checked = await invoke("check_export_file", { path: exported });
  if (!checked.intact || checked.manifest.digest !== exportManifest.digest) fail(`the app's check of its own export: ${JSON.stringify(checked)}`);
  await browser.$('[data-testid="nav-verify"]').click();
  await browser.$('[data-testid="verify-pick"]').waitForDisplayed({ timeout: 10000 });
  await browser.execute((pid) => {
    globalThis.location.hash = `#/p/${encodeURIComponent(pid)}`;
  }, practiceId);
  await browser.$('[data-testid="overview"]').waitForDisplayed({ timeout: 20000 });

  // An aggregate → one of its events → the state at that version.
  await browser.$('[data-testid="nav-aggregates"]').click();
  await browser.$('[data-testid="aggregate-row"]').waitForDisplayed({ timeout: 20000 });
  await browser.$('[data-testid="aggregate-row"]').click();
  await browser.$('[data-testid="aggregate-timeline"] [data-testid="event-row"]').waitForDisplayed({ timeout: 20000 });
  await browser.$('[data-testid="aggregate-timeline"] [data-testid="event-row"]').click();
  await browser.$('[data-testid="state-view"]').waitForDisplayed({ timeout: 20000 });
  await browser.$('[data-testid="diff-view"]').waitForExist({ timeout: 20000 });
  // The state is the one at the chosen event's version, and the diff lists what it changed.
  const version = await browser.$('[data-testid="event-detail"]').getAttribute("data-version");
  const stateTitle = await browser.$('[data-testid="state-title"]').getText();
  if (stateTitle !== `State at version ${version}`) fail(`the state shown is "${stateTitle}" for version ${version}`);
  const stateText = await browser.$('[data-testid="state-view"]').getText();
  if (stateText.trim().length === 0) fail("the state at that version is empty");
  const diffRows = await browser.$$('[data-testid="diff-row"]').length;
  if (version === "1" && diffRows === 0) fail("a first event's diff lists no field");
  await browser.saveScreenshot(join(shots, "desktop-aggregate.png"));

  // One event appended by the New event form: the aggregate another process created above.
  await browser.$('[data-testid="nav-new-event"]').click();
  const typeInput = await browser.$('[data-testid="event-type-input"]');
  await typeInput.waitForDisplayed({ timeout: 20000 });
  await typeInput.setValue("patient.updated");
  const aggregateInput = await browser.$('[data-testid="aggregate-input"]');
  await aggregateInput.setValue("e2e-live");
  await browser.waitUntil(async () => (await browser.$('[data-testid="expected-version"]').getText()).includes("expects version 1"), {
    timeout: 20000,
    timeoutMsg: "the form never learned the aggregate's version",
  });
  await browser.$("#root_notes").setValue("added by the desktop form");
  await browser.$('[data-testid="append"]').click();
  const appendedByForm = await browser.$('[data-testid="appended"]');
  await appendedByForm.waitForDisplayed({ timeout: 20000 });
  if (!(await appendedByForm.getText()).includes("version 2")) fail(`the form appended ${await appendedByForm.getText()}`);
  await browser.saveScreenshot(join(shots, "desktop-new-event.png"));
  await browser.$('[data-testid="nav-timeline"]').click();
  await browser.waitUntil(async () => (await browser.$('[data-testid="timeline"]').getText()).includes("patient.updated"), {
    timeout: 20000,
    timeoutMsg: "the event appended by the form is not in the timeline",
  });

  // A non-member sees nothing.
  await viewAs("not.a.member");
  await browser.$('[data-testid="nav-practices"]').click();
  await browser.$('[data-testid="no-practices"]').waitForDisplayed({ timeout: 10000 });
  const left = await browser.$$('[data-testid="practice"]').length;
  if (left !== 0) fail(`a non-member sees ${left} practices`);
  await browser.saveScreenshot(join(shots, "desktop-non-member.png"));

  // --- Settings that last.
  await viewAs("olivia.owner");
  await browser.$('[data-testid="theme-select"]').selectByAttribute("value", "dark");
  await browser.waitUntil(async () => (await browser.execute("return document.documentElement.dataset.theme")) === "dark", {
    timeout: 10000,
    timeoutMsg: "the dark theme was not applied",
  });
  const openStore = async (location, password, expect) => {
    await browser.$('[data-testid="nav-store"]').click();
    const input = await browser.$('[data-testid="store-location-input"]');
    await input.waitForDisplayed({ timeout: 10000 });
    await input.clearValue();
    await input.setValue(location);
    const secret = await browser.$('[data-testid="store-password-input"]');
    await secret.clearValue();
    if (password) await secret.setValue(password);
    await browser.$('[data-testid="store-open"]').click();
    await browser.waitUntil(async () => (await browser.$('[data-testid="store-location"]').getText()).includes(expect), {
      timeout: 20000,
      timeoutMsg: `the store screen never showed ${expect} after opening ${location.replace(/:[^:@/]*@/, ":***@")}`,
    });
  };
  const pgUrl = process.env.CHRONICLE_TEST_PG_PASSWORD_URL;
  const pgPassword = process.env.CHRONICLE_TEST_PG_PASSWORD;
  if (pgUrl && pgPassword) {
    const url = new URL(pgUrl);
    const where = `${url.hostname}:${url.port}`;
    const inUserinfo = new URL(pgUrl);
    inUserinfo.password = pgPassword;
    const asQuery = new URL(pgUrl);
    asQuery.searchParams.set("password", pgPassword);
    for (const [how, location, field] of [
      ["its own field", pgUrl, pgPassword],
      ["the URL's userinfo", inUserinfo.toString(), null],
      ["?password=", asQuery.toString(), null],
    ]) {
      await openStore(location, field, where);
      // The plugin rewrites the file in place: wait for a whole one naming the location.
      let saved = "";
      await browser.waitUntil(
        async () => {
          saved = savedSettings();
          return saved.includes("postgres://") && saved.trim().endsWith("}");
        },
        { timeout: 10000, timeoutMsg: `the PostgreSQL location was not saved (${how}): ${savedSettings()}` },
      );
      if (saved.includes(pgPassword)) fail(`the password given in ${how} reached the settings file: ${saved}`);
    }
  } else {
    console.log("desktop e2e: no PostgreSQL test server (run through scripts/with-postgres.sh for the password checks)");
  }
  // A location that cannot be opened: the window says why, and the store stays as it was.
  await browser.$('[data-testid="nav-store"]').click();
  const before = await browser.$('[data-testid="store-location"]').getText();
  const badInput = await browser.$('[data-testid="store-location-input"]');
  await badInput.clearValue();
  await badInput.setValue("postgres://nobody@127.0.0.1:1/none");
  await browser.$('[data-testid="store-open"]').click();
  await browser.waitUntil(async () => (await browser.$('[data-testid="store-screen"]').getText()).includes("could not be opened"), {
    timeout: 20000,
    timeoutMsg: "a store that cannot be opened gave no error in the window",
  });
  const after = await browser.$('[data-testid="store-location"]').getText();
  if (after !== before) fail(`a failed open changed the store from ${before} to ${after}`);

  const second = join(data, "second.db");
  await openStore(`sqlite://${second}`, null, "second.db");
  await browser.$('[data-testid="demo-offer"]').waitForDisplayed({ timeout: 20000 });
  await browser.saveScreenshot(join(shots, "desktop-second-store.png"));

  // --- Quit, start again: everything remembered, read back from the real settings file.
  await browser.deleteSession();
  browser = await session();
  await browser.waitUntil(async () => (await browser.execute("return document.documentElement.dataset.theme")) === "dark", {
    timeout: 20000,
    timeoutMsg: "the theme was not remembered",
  });
  await browser.waitUntil(async () => (await browser.$('[data-testid="acting-as"]').getText()).includes("olivia.owner"), {
    timeout: 20000,
    timeoutMsg: "the identity was not remembered",
  });
  await browser.$('[data-testid="nav-store"]').click();
  await browser.waitUntil(async () => (await browser.$('[data-testid="store-location"]').getText()).includes("second.db"), {
    timeout: 20000,
    timeoutMsg: "the store location was not remembered",
  });
  let saved = null;
  await browser.waitUntil(
    async () => {
      try {
        saved = JSON.parse(savedSettings());
        return true;
      } catch {
        return false; // being rewritten
      }
    },
    { timeout: 10000, timeoutMsg: `the settings file never read whole: ${savedSettings()}` },
  );
  const remembered = saved.settings ?? saved;
  if (remembered.theme !== "dark" || remembered.identity !== "olivia.owner" || !String(remembered.storeLocation).endsWith("second.db"))
    fail(`the settings file holds ${JSON.stringify(saved)}`);
  if (!Array.isArray(remembered.recentPractices) || !remembered.recentPractices.includes(practiceId))
    fail(`the practice opened before the restart is not among the recent ones: ${JSON.stringify(remembered.recentPractices)}`);
  if (pgPassword && JSON.stringify(saved).includes(pgPassword)) fail("a password is in the settings file");
  await browser.saveScreenshot(join(shots, "desktop-restarted.png"));
  console.log(`desktop e2e: ok (screenshots in ${shots})`);
} catch (error) {
  // What the window showed when a step failed: CI keeps only the log.
  if (browser) {
    await browser.saveScreenshot(join(shots, "desktop-failure.png")).catch(() => {});
    const text = await browser.execute("return document.body.innerText").catch((e) => `(unreadable: ${e})`);
    console.error(`desktop e2e: the window showed:\n${text}`);
  }
  throw error;
} finally {
  if (browser) await browser.deleteSession().catch(() => {});
  driver.kill();
  rmSync(data, { recursive: true, force: true });
}
