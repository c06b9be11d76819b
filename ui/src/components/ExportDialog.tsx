import { useEffect, useRef, useState } from "react";
import { createPortal } from "react-dom";
import { asCommandError, useClient } from "../client/context";
import type { CommandError, ExportFormat, ExportProgressUpdate, ExportResult } from "../client/types";
import { ErrorView } from "../ErrorView";
import { EXPORT_FORMATS, bytes, describeFilter, exportFilter, extensionOf } from "../lib/exports";
import type { ExportScope } from "../lib/exports";
import { fromLocalInput, localTime, num, toLocalInput } from "../lib/format";
import { CopyText } from "./CopyText";

type Phase =
  | { kind: "form" }
  | { kind: "running"; progress: ExportProgressUpdate | null; cancelling: boolean }
  | { kind: "done"; result: ExportResult }
  | { kind: "cancelled" }
  | { kind: "failed"; error: CommandError };

/** "Export…": a button that opens the export dialog for a scope. */
export function ExportButton({ practiceId, scope }: { practiceId: string; scope: ExportScope }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button" data-testid="export-open" onClick={() => setOpen(true)}>
        Export…
      </button>
      {/* Over the whole window, outside the screen's header and its layout rules. */}
      {open && createPortal(<ExportDialog practiceId={practiceId} scope={scope} onClose={() => setOpen(false)} />, document.body)}
    </>
  );
}

/**
 * Exports a practice, a filtered timeline or an aggregate: format, time range and the CSV byte
 * order mark; then progress (events written on the desktop, bytes received in a browser) with
 * cancel; at the end the manifest's digest, event count and head hash, to write down.
 */
export function ExportDialog(props: { practiceId: string; scope: ExportScope; onClose: () => void }) {
  const client = useClient();
  const initial = props.scope.kind === "timeline" ? props.scope.filter : null;
  const [format, setFormat] = useState<ExportFormat>("ndjson");
  const [from, setFrom] = useState(toLocalInput(initial?.from ?? null));
  const [to, setTo] = useState(toLocalInput(initial?.to ?? null));
  const [csvBom, setCsvBom] = useState(false);
  const [phase, setPhase] = useState<Phase>({ kind: "form" });
  const abort = useRef<AbortController | null>(null);
  const filter = exportFilter(props.scope, { from: fromLocalInput(from), to: fromLocalInput(to) });

  // Leaving the screen mid-export cancels the export rather than leave it running unseen.
  useEffect(() => () => abort.current?.abort(), []);

  const start = async () => {
    const controller = new AbortController();
    abort.current = controller;
    setPhase({ kind: "running", progress: null, cancelling: false });
    const day = new Date().toISOString().slice(0, 10);
    try {
      const result = await client.exportTimeline(
        props.practiceId,
        { format, filter, csvBom: format === "csv" && csvBom },
        {
          suggestedName: `chronicle-${props.practiceId.replace(/[^A-Za-z0-9._-]/g, "_")}-${day}.${extensionOf(format)}`,
          signal: controller.signal,
          onProgress: (progress) => setPhase((p) => (p.kind === "running" ? { ...p, progress } : p)),
        },
      );
      setPhase(result === null ? { kind: "form" } : { kind: "done", result });
    } catch (reason) {
      setPhase(controller.signal.aborted ? { kind: "cancelled" } : { kind: "failed", error: asCommandError(reason) });
    } finally {
      abort.current = null;
    }
  };
  const cancel = () => {
    abort.current?.abort();
    setPhase((p) => (p.kind === "running" ? { ...p, cancelling: true } : p));
  };

  return (
    <div className="modal-backdrop">
      <div className="modal" role="dialog" aria-modal="true" aria-labelledby="export-title" data-testid="export-dialog">
        <h3 id="export-title">Export</h3>
        <p className="muted" data-testid="export-scope">
          {describeFilter(filter)}
        </p>
        {(phase.kind === "form" || phase.kind === "failed" || phase.kind === "cancelled") && (
          <form
            className="export-form"
            onSubmit={(e) => {
              e.preventDefault();
              void start();
            }}
          >
            <fieldset>
              <legend>Format</legend>
              {EXPORT_FORMATS.map((f) => (
                <label key={f.format} className="choice">
                  <input
                    type="radio"
                    name="export-format"
                    value={f.format}
                    data-testid={`export-format-${f.format}`}
                    checked={format === f.format}
                    onChange={() => setFormat(f.format)}
                  />
                  {f.label} <span className="muted small">{f.hint}</span>
                </label>
              ))}
            </fieldset>
            <div className="export-range">
              <label>
                From (local)
                <input type="datetime-local" data-testid="export-from" value={from} onChange={(e) => setFrom(e.target.value)} />
              </label>
              <label>
                Before (local)
                <input type="datetime-local" data-testid="export-to" value={to} onChange={(e) => setTo(e.target.value)} />
              </label>
            </div>
            {format === "csv" && (
              <label className="choice">
                <input type="checkbox" data-testid="export-bom" checked={csvBom} onChange={(e) => setCsvBom(e.target.checked)} />
                Start with a byte order mark (for spreadsheets that need one to read UTF-8)
              </label>
            )}
            {format === "csv" && client.transport === "http" && (
              <p className="muted small">A CSV's manifest is a second file (FILE.manifest.json), offered once the CSV is downloaded: keep the two together to verify the CSV.</p>
            )}
            {phase.kind === "failed" && <ErrorView error={phase.error} title="The export failed; nothing was kept." />}
            {phase.kind === "cancelled" && (
              <p className="muted" data-testid="export-cancelled">
                Cancelled; nothing was kept.
              </p>
            )}
            <div className="modal-buttons">
              <button type="submit" data-testid="export-start">
                Export
              </button>
              <button type="button" data-testid="export-close" onClick={props.onClose}>
                Close
              </button>
            </div>
          </form>
        )}
        {phase.kind === "running" && (
          <div data-testid="export-running">
            <Progress progress={phase.progress} />
            <div className="modal-buttons">
              <button type="button" data-testid="export-cancel" disabled={phase.cancelling} onClick={cancel}>
                {phase.cancelling ? "Cancelling…" : "Cancel"}
              </button>
            </div>
          </div>
        )}
        {phase.kind === "done" && <Done result={phase.result} onClose={props.onClose} />}
      </div>
    </div>
  );
}

function Progress({ progress }: { progress: ExportProgressUpdate | null }) {
  if (progress === null)
    return (
      <p className="muted" data-testid="export-progress">
        Preparing: counting the events and recording the export…
      </p>
    );
  if (progress.unit === "events" && progress.total !== null)
    return (
      <p data-testid="export-progress">
        <progress max={Math.max(progress.total, 1)} value={progress.done} /> {num(progress.done)} of {num(progress.total)} events written
      </p>
    );
  return (
    <p data-testid="export-progress">
      {bytes(progress.done)} received
    </p>
  );
}

function Done({ result, onClose }: { result: ExportResult; onClose: () => void }) {
  const m = result.manifest;
  return (
    <div data-testid="export-done" data-export-id={m.exportId}>
      <p>
        <strong>{num(m.eventCount)}</strong> events exported to{" "}
        <span className="mono" data-testid="export-file">
          {result.savedTo ?? result.fileName}
        </span>
        {result.savedTo === null && <span className="muted"> (in your downloads)</span>}
      </p>
      {result.manifestFile && (
        <p>
          <button type="button" data-testid="export-manifest-save" onClick={result.manifestFile.save}>
            Save its manifest ({result.manifestFile.name})
          </button>{" "}
          <span className="muted small">needed beside the CSV to verify it</span>
        </p>
      )}
      <dl className="facts">
        <dt>Digest</dt>
        <dd>
          <CopyText text={m.digest} label="the digest" testid="export-digest" />
        </dd>
        <dt>Events</dt>
        <dd data-testid="export-count">{m.eventCount}</dd>
        <dt>Seq range</dt>
        <dd>{m.firstSeq === null ? "none" : `${m.firstSeq}–${m.lastSeq}`}</dd>
        <dt>Head at export</dt>
        <dd>
          seq {m.headSeq} · <CopyText text={m.headHash} label="the head hash" testid="export-head-hash" />
        </dd>
        <dt>Exported</dt>
        <dd>
          {localTime(m.exportedAt)} by {m.exportedBy}
        </dd>
      </dl>
      <p className="muted small">
        Keep the digest and the head hash somewhere the store's owner cannot change them: the Verify screen (or
        `chronicle verify FILE`) proves the file unaltered, and the head proves the store still holds this history.
      </p>
      <div className="modal-buttons">
        <button type="button" data-testid="export-close" onClick={onClose}>
          Close
        </button>
      </div>
    </div>
  );
}
