import { useEffect, useRef, useState } from "react";
import { Link } from "wouter";
import { asCommandError, useClient, useIdentity } from "../client/context";
import type { ChainReport, CommandError, ExportCheck, ExportFile } from "../client/types";
import { CopyText } from "../components/CopyText";
import { ErrorView } from "../ErrorView";
import { checkVerdict, describeFilter, webCheckable } from "../lib/exports";
import { localTime, num } from "../lib/format";
import { enc } from "../router";

/** Gaps listed before "and N more". */
const GAPS_SHOWN = 50;

type Checked = { name: string; check: ExportCheck } | { name: string; error: CommandError } | { name: string; refused: string };

/**
 * Checks an export file offline, as `chronicle verify FILE` does: drop it or pick it, and see
 * whether it is intact, what was checked, the gaps of a filtered export, the first event that
 * breaks and where the manifest disagrees. Then, optionally, whether the live store still holds
 * the history up to the head the export recorded.
 */
export function Verify() {
  const client = useClient();
  const [checked, setChecked] = useState<Checked | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [dragging, setDragging] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const generation = useRef(0);

  const check = async (name: string, file: ExportFile) => {
    const gen = ++generation.current;
    setBusy(name);
    setChecked(null);
    try {
      const result = await client.checkExport(file);
      if (gen === generation.current) setChecked({ name, check: result });
    } catch (reason) {
      if (gen === generation.current) setChecked({ name, error: asCommandError(reason) });
    } finally {
      if (gen === generation.current) setBusy(null);
    }
  };
  const checkUpload = (file: File) => {
    const allowed = webCheckable(file.name);
    if (!allowed.ok) {
      generation.current++;
      setChecked({ name: file.name, refused: allowed.reason });
      return;
    }
    void check(file.name, { kind: "upload", file, name: file.name });
  };
  const checkPath = (path: string) => void check(path, { kind: "path", path });

  // The desktop window gets dropped files as paths from the app, not as browser files.
  const desktop = client.desktop;
  const checkPathRef = useRef(checkPath);
  useEffect(() => {
    checkPathRef.current = checkPath;
  });
  useEffect(
    () =>
      desktop?.onFilesDropped((paths) => {
        if (paths[0]) checkPathRef.current(paths[0]);
      }),
    [desktop],
  );

  return (
    <section className="screen" data-testid="verify-screen">
      <div className="screen-head">
        <h2>Verify an export</h2>
      </div>
      <p className="muted">
        Every hash is recomputed from the file alone, without the store: nothing missing, added, reordered or altered, and the
        manifest's counts and digest agree. NDJSON and JSON exports{desktop ? ", and CSV with its FILE.manifest.json beside it" : ""}.
        {!desktop && " A CSV needs its manifest file beside it: check it with `chronicle verify FILE` or the desktop app."}
      </p>
      <div
        className={dragging ? "dropzone over" : "dropzone"}
        data-testid="verify-drop"
        onDragOver={(e) => {
          if (desktop) return;
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={(e) => {
          if (desktop) return;
          e.preventDefault();
          setDragging(false);
          const file = e.dataTransfer.files[0];
          if (file) checkUpload(file);
        }}
      >
        <p>Drop an export file here, or</p>
        {desktop ? (
          <button
            type="button"
            data-testid="verify-pick"
            onClick={() =>
              void desktop.pickExportFile().then(
                (path) => path && checkPath(path),
                (reason) => setChecked({ name: "", error: asCommandError(reason) }),
              )
            }
          >
            Choose a file…
          </button>
        ) : (
          <input
            ref={input}
            type="file"
            accept=".ndjson,.json,.jsonl,.csv,application/json,application/x-ndjson"
            data-testid="verify-file"
            onChange={(e) => {
              const file = e.target.files?.[0];
              if (file) checkUpload(file);
              // The same file picked again is checked again.
              if (input.current) input.current.value = "";
            }}
          />
        )}
      </div>
      {busy && (
        <p className="muted" data-testid="verify-busy">
          Checking {busy}…
        </p>
      )}
      {checked && "refused" in checked && (
        <p className="notice" data-testid="verify-refused">
          {checked.name}: {checked.refused}
        </p>
      )}
      {checked && "error" in checked && <ErrorView error={checked.error} title={checked.name ? `${checked.name} cannot be checked` : undefined} />}
      {checked && "check" in checked && <CheckReport name={checked.name} check={checked.check} />}
    </section>
  );
}

function CheckReport({ name, check }: { name: string; check: ExportCheck }) {
  const verdict = checkVerdict(check);
  const m = check.manifest;
  const brk = check.firstBreak;
  return (
    <div className="check" data-testid="verify-result" data-intact={String(check.intact)}>
      <p className={verdict.ok ? "verdict ok" : "verdict broken"} data-testid="verify-verdict">
        {verdict.ok ? "✓" : "✗"} {verdict.text}
      </p>
      {brk && (
        <div className="first-break" data-testid="verify-first-break">
          <strong>First break</strong>
          <dl className="facts">
            <dt>Seq</dt>
            <dd data-testid="verify-break-seq">{brk.seq ?? "—"}</dd>
            <dt>Event</dt>
            <dd className="mono">{brk.eventId ?? "—"}</dd>
            <dt>Line</dt>
            <dd data-testid="verify-break-line">{brk.line ?? "—"}</dd>
            <dt>Problem</dt>
            <dd data-testid="verify-break-problem">{brk.problem}</dd>
          </dl>
        </div>
      )}
      {check.manifestProblems.length > 0 && (
        <div className="first-break" data-testid="verify-manifest-problems">
          <strong>The manifest disagrees with the events</strong>
          <ul>
            {check.manifestProblems.map((p, i) => (
              <li key={i}>
                <code>{p.field}</code> {p.problem}
              </li>
            ))}
          </ul>
        </div>
      )}
      <dl className="facts">
        <dt>File</dt>
        <dd className="mono">
          {name} ({check.format})
        </dd>
        <dt>Events checked</dt>
        <dd data-testid="verify-events-checked">{num(check.eventsChecked)}</dd>
        <dt>Seq range</dt>
        <dd>{check.firstSeq === null ? "none" : `${check.firstSeq}–${check.lastSeq}`}</dd>
        <dt>Practice</dt>
        <dd>
          <Link href={`/p/${enc(m.practiceId)}`}>{m.practiceId}</Link>
        </dd>
        <dt>Slice</dt>
        <dd>{describeFilter(m.filter)}</dd>
        <dt>Exported</dt>
        <dd>
          {localTime(m.exportedAt)} by {m.exportedBy}
        </dd>
        <dt>Digest</dt>
        <dd>
          <CopyText text={m.digest} label="the manifest's digest" testid="verify-digest" />
        </dd>
        <dt>Head at export</dt>
        <dd>
          seq {m.headSeq} · <CopyText text={m.headHash} label="the head hash" testid="verify-head-hash" />
        </dd>
        <dt>Gaps</dt>
        <dd data-testid="verify-gaps">
          {check.gaps.length === 0
            ? "none"
            : `${check.gaps.length} (the events this filtered export leaves out): ${check.gaps
                .slice(0, GAPS_SHOWN)
                .map((g) => (g.from === g.to ? `${g.from}` : `${g.from}–${g.to}`))
                .join(", ")}${check.gaps.length > GAPS_SHOWN ? ` and ${check.gaps.length - GAPS_SHOWN} more` : ""}`}
        </dd>
      </dl>
      <AnchorCheck practiceId={m.practiceId} headHash={m.headHash} headSeq={m.headSeq} />
    </div>
  );
}

/** Whether the live store still holds the chain up to the head the export recorded. */
function AnchorCheck(props: { practiceId: string; headHash: string; headSeq: number }) {
  const client = useClient();
  const identity = useIdentity();
  const [result, setResult] = useState<{ report: ChainReport } | { error: CommandError } | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async () => {
    setBusy(true);
    try {
      setResult({ report: await client.verify(props.practiceId, { againstHash: props.headHash, againstSeq: props.headSeq }) });
    } catch (reason) {
      setResult({ error: asCommandError(reason) });
    } finally {
      setBusy(false);
    }
  };
  if (identity === null) return null;
  const anchor = result && "report" in result ? result.report.anchor : null;
  return (
    <div className="anchor">
      <button type="button" data-testid="verify-anchor" disabled={busy} onClick={() => void run()}>
        Does the store still hold this history?
      </button>
      {busy && <span className="muted"> checking the live chain…</span>}
      {anchor && (
        <p className={anchor.held ? "verdict ok" : "verdict broken"} data-testid="verify-anchor-result" data-held={String(anchor.held)}>
          {anchor.held
            ? `✓ Yes: the store's chain still reaches the head seq ${anchor.foundAtSeq ?? props.headSeq} unchanged.`
            : `✗ No: ${anchor.problem ?? "the head is not in the store's chain"}. History may have been rewritten after the export.`}
        </p>
      )}
      {result && "error" in result && <ErrorView error={result.error} />}
    </div>
  );
}
