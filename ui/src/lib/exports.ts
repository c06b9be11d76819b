// What the Export dialog, the Verify screen and the chain badge decide: the engine's filter
// for an export, the names and headers a download comes with, and the sentences a check or a
// live verify comes down to. Pure, so it is tested without a browser.
import type { ChainReport, ExportCheck, ExportFormat, ExportManifest, TimelineFilter as EngineFilter } from "../bindings";
import type { TimelineFilter } from "../client/types";

/** The formats the dialog offers, in order, with what each is for. */
export const EXPORT_FORMATS: { format: ExportFormat; label: string; hint: string }[] = [
  { format: "ndjson", label: "NDJSON", hint: "one event per line; verifies offline" },
  { format: "json", label: "JSON", hint: "one document; verifies offline" },
  { format: "csv", label: "CSV", hint: "for spreadsheets; its manifest is a second file" },
  { format: "html", label: "HTML report", hint: "printable, with the digest on page 1" },
];

/** The file extension of a format (as the engine names files). */
export function extensionOf(format: ExportFormat): string {
  return format === "html" ? "html" : format;
}

/** Where an export starts from: the practice timeline (its filters), an aggregate, or all. */
export type ExportScope =
  | { kind: "practice" }
  | { kind: "timeline"; filter: TimelineFilter }
  | { kind: "aggregate"; aggregateType: string; aggregateId: string };

/**
 * The engine's filter for an export: the scope's own filter, narrowed by the dialog's time
 * range (`from` inclusive, `to` exclusive, as the timeline reads them). A range given in the
 * dialog replaces the timeline's; an empty one keeps it.
 */
export function exportFilter(scope: ExportScope, range: { from: string | null; to: string | null }): EngineFilter {
  const base: EngineFilter =
    scope.kind === "timeline"
      ? {
          eventTypes: scope.filter.eventTypes ?? [],
          actorType: scope.filter.actorType ?? null,
          actorId: scope.filter.actorId ?? null,
          aggregateType: scope.filter.aggregateType ?? null,
          aggregateId: scope.filter.aggregateId ?? null,
          from: scope.filter.from ?? null,
          to: scope.filter.to ?? null,
          text: scope.filter.text ?? null,
        }
      : scope.kind === "aggregate"
        ? { eventTypes: [], aggregateType: scope.aggregateType, aggregateId: scope.aggregateId }
        : { eventTypes: [] };
  return { ...base, from: range.from ?? base.from ?? null, to: range.to ?? base.to ?? null };
}

/** In words, what a filter keeps: "everything", or "patient.created · from … · text "x"". */
export function describeFilter(filter: EngineFilter): string {
  const parts: string[] = [];
  if (filter.aggregateType && filter.aggregateId) parts.push(`aggregate ${filter.aggregateType}/${filter.aggregateId}`);
  else if (filter.aggregateType) parts.push(`aggregate type ${filter.aggregateType}`);
  if (filter.eventTypes && filter.eventTypes.length > 0) parts.push(filter.eventTypes.join(", "));
  if (filter.actorType) parts.push(`${filter.actorType} actors`);
  if (filter.actorId) parts.push(`by ${filter.actorId}`);
  if (filter.from) parts.push(`from ${filter.from}`);
  if (filter.to) parts.push(`before ${filter.to}`);
  if (filter.text) parts.push(`payload contains "${filter.text}"`);
  return parts.length === 0 ? "the whole timeline" : parts.join(" · ");
}

/** The file name of a `Content-Disposition: attachment; filename="…"` header, if it has one. */
export function fileNameFromDisposition(header: string | null): string | null {
  if (!header) return null;
  const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(header);
  if (!match?.[1]) return null;
  // Only a name, never a path: the browser would refuse one anyway.
  const name = decodeURIComponent(match[1]).split(/[/\\]/).pop() ?? "";
  return name === "" ? null : name;
}

/** The manifest the server sends in `x-chronicle-manifest` (base64url of its JSON). */
export function manifestFromHeader(header: string | null): ExportManifest | null {
  if (!header) return null;
  try {
    const base64 = header.replace(/-/g, "+").replace(/_/g, "/");
    const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
    const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
    const value = JSON.parse(new TextDecoder().decode(bytes)) as ExportManifest;
    return value && value.kind === "chronicle-export" ? value : null;
  } catch {
    return null;
  }
}

/** "1.2 MB" for a byte count. */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} kB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GB`;
}

/** A check's verdict in one line, and whether it is good news. */
export function checkVerdict(check: ExportCheck): { ok: boolean; text: string } {
  const range = check.firstSeq === null ? "no events" : `seq ${check.firstSeq}–${check.lastSeq}`;
  const gaps = check.gaps.length === 0 ? "" : `, ${check.gaps.length} gap${check.gaps.length === 1 ? "" : "s"} (filtered)`;
  if (check.intact) return { ok: true, text: `Intact: ${check.eventsChecked} events checked, ${range}${gaps}` };
  const where = check.firstBreak
    ? ` first break at ${check.firstBreak.seq !== null ? `seq ${check.firstBreak.seq}` : "an unknown seq"}${check.firstBreak.line !== null ? `, line ${check.firstBreak.line}` : ""}`
    : "";
  const problems = check.manifestProblems.length;
  return {
    ok: false,
    text: `Broken:${where}${where && problems ? ";" : ""}${problems ? ` ${problems} manifest problem${problems === 1 ? "" : "s"}` : ""} (${check.eventsChecked} events checked, ${range})`,
  };
}

/** Whether the web console can check this file itself (a CSV needs its manifest beside it). */
export function webCheckable(fileName: string): { ok: true } | { ok: false; reason: string } {
  if (/\.csv$/i.test(fileName))
    return {
      ok: false,
      reason:
        "A CSV export's manifest is a second file (FILE.manifest.json), which a browser cannot read beside it: check the CSV with `chronicle verify FILE` or in the desktop app, or check the NDJSON or JSON export here.",
    };
  if (/\.html?$/i.test(fileName))
    return { ok: false, reason: "An HTML report is for reading and printing; check the NDJSON, JSON or CSV export of the same slice." };
  return { ok: true };
}

/** The chain badge: intact (how many events, as of when) or broken (and why). */
export function chainBadge(report: ChainReport): { ok: boolean; text: string } {
  if (report.firstBreak)
    return { ok: false, text: `chain broken at seq ${report.firstBreak.seq}: ${report.firstBreak.problem}` };
  if (report.membershipProblems.length > 0) {
    const first = report.membershipProblems[0]!;
    return { ok: false, text: `memberships differ from their events: ${first.userId}: ${first.problem}` };
  }
  if (report.anchor && !report.anchor.held)
    return { ok: false, text: `the store no longer holds the anchored head: ${report.anchor.problem ?? "not found"}` };
  return { ok: true, text: `chain intact · ${report.eventsChecked.toLocaleString("en-US")} events` };
}
