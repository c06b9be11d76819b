import { useEffect, useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { Link } from "wouter";
import { asCommandError, useClient, useData, useIdentity } from "../client/context";
import type { CommandError, ProjectorStatus } from "../client/types";
import { Sparkline } from "../components/charts";
import { ErrorView, Status } from "../ErrorView";
import { usePractices } from "../hooks";
import { localTime, num, seconds, utcTitle } from "../lib/format";
import { enc } from "../router";

const HISTORY = 60;

/** Each projector of a practice: checkpoint, head, lag, rate, state, last error; retry and reset; live. */
export function Checkpoints({ params }: { params: { pid: string } }) {
  const pid = params.pid;
  const client = useClient();
  const identity = useIdentity();
  const queries = useQueryClient();
  const status = useData(["projectors", pid], (c) => c.projectorStatus(pid));
  const practice = usePractices().list?.find((p) => p.practiceId === pid);
  // What the engine says this identity may do here; the screen keeps no role table of its own.
  const mayAct = practice?.capabilities.manageProjectors ?? false;
  const [confirming, setConfirming] = useState<{ name: string; what: Action; eventId?: string } | null>(null);
  const [reason, setReason] = useState("");
  const [actionError, setActionError] = useState<CommandError | null>(null);
  const [done, setDone] = useState<string | null>(null);

  // Live: a checkpoint moved → re-read (at most every 250 ms).
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const stop = client.onCheckpointMoved(pid, () => {
      if (timer) return;
      timer = setTimeout(() => {
        timer = null;
        void queries.invalidateQueries({ queryKey: ["as", identity, "projectors", pid] });
      }, 250);
    });
    return () => {
      stop();
      if (timer) clearTimeout(timer);
    };
  }, [client, pid, identity, queries]);

  // Lag history, kept in memory while the screen is open.
  const [seen, setSeen] = useState<ProjectorStatus[] | undefined>(undefined);
  const [history, setHistory] = useState<ReadonlyMap<string, number[]>>(new Map());
  if (status.data !== seen) {
    setSeen(status.data);
    if (status.data) {
      const next = new Map(history);
      for (const p of status.data) next.set(p.projectorName, [...(history.get(p.projectorName) ?? []), p.lag].slice(-HISTORY));
      setHistory(next);
    }
  }

  const act = async (what: Action, name: string, eventId?: string) => {
    setConfirming(null);
    try {
      if (what === "reset") await client.resetProjector(pid, name);
      else if (what === "retry") await client.retryProjector(pid, name);
      else await client.skipProjectorEvent(pid, name, { eventId: eventId ?? "", reason: reason.trim() });
      setActionError(null);
      setReason("");
      setDone(`${what === "reset" ? "Rebuilding" : what === "retry" ? "Retrying" : "Skipping the event in"} ${name}.`);
      void status.refetch();
    } catch (reason) {
      setDone(null);
      setActionError(asCommandError(reason));
    }
  };

  return (
    <section className="screen" data-testid="checkpoints">
      <div className="screen-head">
        <h2>Checkpoints</h2>
        <span className="muted">
          Updates live. {mayAct ? "" : "Retry, skip and reset are for owners and admins."}
        </span>
      </div>
      <Status loading={status.isPending && identity !== null} error={status.error} empty={status.data?.length === 0} emptyText="No projector has a checkpoint for this practice yet." />
      {actionError && <ErrorView title="Not done" error={actionError} />}
      {done && <p className="muted" data-testid="projector-done">{done}</p>}
      {confirming && (
        <div className="confirm" role="alertdialog" data-testid="confirm">
          <p>
            {confirming.what === "reset"
              ? `Rebuild ${confirming.name}'s read model for this practice from the first event? It is incomplete until it catches up.`
              : confirming.what === "retry"
                ? `Let ${confirming.name} try the failed event again?`
                : `Let ${confirming.name} pass over event ${confirming.eventId ?? ""}? Its read model will never include it, and every rebuild skips it too. The skip is recorded in the practice's history with your reason.`}
          </p>
          {confirming.what === "skip" && (
            <label>
              Reason (recorded)
              <input data-testid="skip-reason" value={reason} onChange={(e) => setReason(e.target.value)} placeholder="e.g. malformed import, fixed by a later event" />
            </label>
          )}
          <button
            type="button"
            data-testid="confirm-yes"
            disabled={confirming.what === "skip" && reason.trim() === ""}
            onClick={() => void act(confirming.what, confirming.name, confirming.eventId)}
          >
            {confirming.what === "reset" ? "Rebuild" : confirming.what === "retry" ? "Retry" : "Skip the event"}
          </button>
          <button type="button" onClick={() => setConfirming(null)}>
            Cancel
          </button>
        </div>
      )}
      {status.data && status.data.length > 0 && (
        <table className="projectors">
          <thead>
            <tr>
              <th>projector</th>
              <th>state</th>
              <th>last event</th>
              <th className="num">last seq</th>
              <th className="num">head seq</th>
              <th className="num">lag</th>
              <th>lag (time)</th>
              <th>events/s</th>
              <th>lag history</th>
              <th>updated</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {status.data.map((p) => (
              <Row
                key={p.projectorName}
                p={p}
                pid={pid}
                history={history.get(p.projectorName) ?? []}
                mayAct={mayAct}
                onAsk={(what) => setConfirming({ name: p.projectorName, what, eventId: p.errorEventId ?? undefined })}
              />
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

type Action = "reset" | "retry" | "skip";

function Row(props: { p: ProjectorStatus; pid: string; history: number[]; mayAct: boolean; onAsk: (what: Action) => void }) {
  const { p, pid } = props;
  return (
    <>
      <tr data-testid="projector-row" data-projector={p.projectorName} className={p.state}>
        <td>{p.projectorName}</td>
        <td>
          <span className={`state ${p.state}`} data-testid="projector-state">
            {p.state.replace("_", " ")}
          </span>
        </td>
        <td className="mono small">
          {p.lastEventId ? <Link href={`/p/${enc(pid)}/e/${enc(p.lastEventId)}`}>{p.lastEventId.slice(0, 8)}…</Link> : "—"}
        </td>
        <td className="num" data-testid="projector-last-seq">
          {p.lastSeq}
        </td>
        <td className="num" data-testid="projector-head-seq">
          {p.headSeq}
        </td>
        <td className="num" data-testid="projector-lag">
          {num(p.lag)}
        </td>
        <td>{seconds(p.lagSeconds)}</td>
        <td>{p.eventsPerSecond === null ? "—" : p.eventsPerSecond.toFixed(1)}</td>
        <td>
          <Sparkline values={props.history} width={80} height={18} label={`lag over the last ${props.history.length} updates`} testid="lag-sparkline" />
        </td>
        <td title={utcTitle(p.updatedAt)}>{localTime(p.updatedAt)}</td>
        <td className="actions">
          <button
            type="button"
            data-testid="projector-retry"
            disabled={!props.mayAct || !p.retryable}
            title={props.mayAct ? (p.retryable ? "Run it again from the event it stopped at" : "Only a failed or stopped projector can be retried") : "Owners and admins only"}
            onClick={() => props.onAsk("retry")}
          >
            Retry
          </button>
          <button
            type="button"
            data-testid="projector-reset"
            disabled={!props.mayAct}
            title={props.mayAct ? "Rebuild from the first event" : "Owners and admins only"}
            onClick={() => props.onAsk("reset")}
          >
            Reset
          </button>
        </td>
      </tr>
      {p.lastError && (
        <tr className="error-row">
          <td colSpan={11} data-testid="projector-error">
            <strong>Failed:</strong> {p.lastError}
            {p.errorEventId && (
              <>
                {" "}
                on event{" "}
                <Link href={`/p/${enc(pid)}/e/${enc(p.errorEventId)}`} data-testid="projector-error-event">
                  {p.errorEventId}
                </Link>{" "}
                <button
                  type="button"
                  data-testid="projector-skip"
                  disabled={!props.mayAct || p.state !== "failed"}
                  title={props.mayAct ? "If retrying keeps failing: pass over this one event, on record" : "Owners and admins only"}
                  onClick={() => props.onAsk("skip")}
                >
                  Skip this event…
                </button>
              </>
            )}
          </td>
        </tr>
      )}
      {p.skipped.length > 0 && (
        <tr className="skipped-row">
          <td colSpan={11} data-testid="projector-skipped">
            <strong>Skipped:</strong>{" "}
            {p.skipped.map((skip, index) => (
              <span key={skip.skipSeq}>
                {index > 0 && "; "}
                <Link href={`/p/${enc(pid)}/e/${enc(skip.eventId)}`}>seq {skip.seq}</Link> by {skip.skippedBy ?? "(not recorded)"} ({skip.reason})
              </span>
            ))}
          </td>
        </tr>
      )}
    </>
  );
}
