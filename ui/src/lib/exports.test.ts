import { describe, expect, it } from "vitest";
import type { ChainReport, ExportCheck, ExportManifest } from "../bindings";
import {
  chainBadge,
  checkVerdict,
  describeFilter,
  exportFilter,
  fileNameFromDisposition,
  manifestFromHeader,
  webCheckable,
} from "./exports";

const manifest: ExportManifest = {
  kind: "chronicle-export",
  version: 1,
  exportId: "0190-export",
  practiceId: "p-1",
  filter: { eventTypes: [] },
  exportedBy: "victor.viewer",
  exportedAt: "2026-11-30T08:00:00Z",
  eventCount: 3,
  firstSeq: 1,
  lastSeq: 5,
  headSeq: 5,
  headHash: "ab".repeat(32),
  chainForms: [2],
  digest: `sha256:${"cd".repeat(32)}`,
};

const check = (over: Partial<ExportCheck>): ExportCheck => ({
  intact: true,
  format: "ndjson",
  manifest,
  eventsChecked: 3,
  firstSeq: 1,
  lastSeq: 5,
  gaps: [],
  firstBreak: null,
  manifestProblems: [],
  digest: manifest.digest,
  ...over,
});

/** base64url without padding, as the server writes `x-chronicle-manifest`. */
const base64url = (text: string) =>
  btoa(String.fromCharCode(...new TextEncoder().encode(text)))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");

describe("exportFilter", () => {
  it("keeps the timeline's filters, and the dialog's range replaces the timeline's", () => {
    const timeline = {
      eventTypes: ["patient.created"],
      actorType: "human" as const,
      actorId: null,
      aggregateType: null,
      from: "2026-01-01T00:00:00.000Z",
      to: null,
      text: "Smith",
    };
    expect(exportFilter({ kind: "timeline", filter: timeline }, { from: null, to: null })).toEqual({
      eventTypes: ["patient.created"],
      actorType: "human",
      actorId: null,
      aggregateType: null,
      aggregateId: null,
      from: "2026-01-01T00:00:00.000Z",
      to: null,
      text: "Smith",
    });
    const ranged = exportFilter({ kind: "timeline", filter: timeline }, { from: "2026-02-01T00:00:00.000Z", to: "2026-03-01T00:00:00.000Z" });
    expect([ranged.from, ranged.to, ranged.text]).toEqual(["2026-02-01T00:00:00.000Z", "2026-03-01T00:00:00.000Z", "Smith"]);
  });

  it("narrows an aggregate's export to that aggregate, and the practice's to nothing", () => {
    expect(exportFilter({ kind: "aggregate", aggregateType: "patient", aggregateId: "pat-1" }, { from: null, to: null })).toEqual({
      eventTypes: [],
      aggregateType: "patient",
      aggregateId: "pat-1",
      from: null,
      to: null,
    });
    const whole = exportFilter({ kind: "practice" }, { from: null, to: null });
    expect(describeFilter(whole)).toBe("the whole timeline");
    expect(describeFilter(exportFilter({ kind: "aggregate", aggregateType: "patient", aggregateId: "pat-1" }, { from: null, to: "2026-01-01T00:00:00Z" }))).toBe(
      "aggregate patient/pat-1 · before 2026-01-01T00:00:00Z",
    );
  });
});

describe("download headers", () => {
  it("reads the file name of a Content-Disposition, never a path", () => {
    expect(fileNameFromDisposition('attachment; filename="chronicle-p-1-0190.ndjson"')).toBe("chronicle-p-1-0190.ndjson");
    expect(fileNameFromDisposition("attachment; filename=plain.csv")).toBe("plain.csv");
    expect(fileNameFromDisposition('attachment; filename="../../etc/passwd"')).toBe("passwd");
    expect(fileNameFromDisposition("attachment")).toBeNull();
    expect(fileNameFromDisposition(null)).toBeNull();
  });

  it("decodes the manifest header (base64url of JSON, UTF-8) and refuses anything else", () => {
    const withUnicode = { ...manifest, exportedBy: "zoë" };
    expect(manifestFromHeader(base64url(JSON.stringify(withUnicode)))).toEqual(withUnicode);
    expect(manifestFromHeader(base64url(JSON.stringify({ kind: "other" })))).toBeNull();
    expect(manifestFromHeader("%%%not base64")).toBeNull();
    expect(manifestFromHeader(null)).toBeNull();
  });
});

describe("checkVerdict", () => {
  it("says intact with the count, the range and the gaps of a filtered export", () => {
    expect(checkVerdict(check({ gaps: [{ from: 2, to: 2 }, { from: 4, to: 4 }] }))).toEqual({
      ok: true,
      text: "Intact: 3 events checked, seq 1–5, 2 gaps (filtered)",
    });
  });

  it("names the first break by seq and line, and counts manifest problems", () => {
    const broken = check({
      intact: false,
      firstBreak: { seq: 4, eventId: "e-4", line: 5, problem: "hash does not match" },
      manifestProblems: [{ field: "digest", problem: "differs" }],
    });
    expect(checkVerdict(broken)).toEqual({
      ok: false,
      text: "Broken: first break at seq 4, line 5; 1 manifest problem (3 events checked, seq 1–5)",
    });
    expect(checkVerdict(check({ intact: false, manifestProblems: [{ field: "eventCount", problem: "3, not 4" }] })).text).toBe(
      "Broken: 1 manifest problem (3 events checked, seq 1–5)",
    );
  });
});

describe("webCheckable", () => {
  it("sends CSV and HTML elsewhere, with the reason", () => {
    expect(webCheckable("x.ndjson")).toEqual({ ok: true });
    expect(webCheckable("x.JSON")).toEqual({ ok: true });
    const csv = webCheckable("x.csv");
    expect(csv.ok).toBe(false);
    if (!csv.ok) expect(csv.reason).toContain("chronicle verify FILE");
    expect(webCheckable("report.html").ok).toBe(false);
  });
});

describe("chainBadge", () => {
  const report = (over: Partial<ChainReport>): ChainReport => ({
    practiceId: "p-1",
    eventsChecked: 1234,
    headHash: "ab".repeat(32),
    firstBreak: null,
    membershipProblems: [],
    anchor: null,
    ...over,
  });
  it("is intact with the count, or broken with the first problem", () => {
    expect(chainBadge(report({}))).toEqual({ ok: true, text: "chain intact · 1,234 events" });
    expect(chainBadge(report({ firstBreak: { seq: 7, eventId: "e-7", problem: "hash mismatch" } }))).toEqual({
      ok: false,
      text: "chain broken at seq 7: hash mismatch",
    });
    expect(chainBadge(report({ membershipProblems: [{ userId: "u", expectedRole: null, storedRole: "owner", problem: "no event grants it" }] })).ok).toBe(false);
    expect(
      chainBadge(report({ anchor: { anchor: { seq: 3, hash: "x" }, held: false, foundAtSeq: null, problem: "seq 3 has another hash" } })).text,
    ).toContain("seq 3 has another hash");
  });
});
