// "Generate events": fills the practice with events made from the registry's schemas by the
// engine's generator (valid by construction, then validated, access-checked and chained by the
// batch append like any other), with a progress bar and cancel.
import { useRef, useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { Link } from "wouter";
import { asCommandError, useClient, useData, useIdentity } from "../client/context";
import type { CommandError, GeneratedEvents, GenerateRun } from "../client/types";
import { ErrorView, Status } from "../ErrorView";
import { enc } from "../router";

/** The generator's own limit per call (the engine's MAX_GENERATED_EVENTS). */
const MAX_COUNT = 100_000;
/** Types the generator leaves out unless asked: the practice's own and memberships. */
const leftOutByDefault = (eventType: string, aggregateType: string) =>
  aggregateType === "practice" || aggregateType === "membership" || eventType === "practice.created";

export function Generate({ params }: { params: { pid: string } }) {
  const { pid } = params;
  const client = useClient();
  const identity = useIdentity();
  const queries = useQueryClient();
  const registry = useData(["registry"], (c) => c.registry());
  const practice = useData(["practice", pid], (c) => c.practice(pid));
  const [chosen, setChosen] = useState<Set<string> | null>(null);
  const [count, setCount] = useState("1000");
  const [seed, setSeed] = useState("1");
  const [progress, setProgress] = useState<{ written: number; total: number } | null>(null);
  const [result, setResult] = useState<GeneratedEvents | null>(null);
  const [error, setError] = useState<CommandError | null>(null);
  const run = useRef<GenerateRun | null>(null);
  const [running, setRunning] = useState(false);

  // Types only the store appends (a projector skip, an export's record) cannot be generated.
  const types = (registry.data ?? []).filter((t) => t.eventType !== "practice.created" && t.appendedBy === null);
  const defaults = new Set(types.filter((t) => !leftOutByDefault(t.eventType, t.aggregateType)).map((t) => t.eventType));
  const selected = chosen ?? defaults;
  const canAppend = practice.data?.capabilities.append ?? false;

  const start = async () => {
    const total = Number(count);
    if (!Number.isInteger(total) || total < 1 || total > MAX_COUNT) {
      setError({ code: "invalid", message: `Count must be a whole number from 1 to ${MAX_COUNT}.`, details: [{ path: "/count", message: "out of range" }] });
      return;
    }
    setError(null);
    setResult(null);
    setProgress({ written: 0, total });
    setRunning(true);
    const seedNumber = seed.trim() === "" ? null : Number(seed);
    run.current = client.generateEvents(
      pid,
      { eventTypes: [...selected].sort(), count: total, seed: seedNumber !== null && Number.isFinite(seedNumber) ? seedNumber : null },
      (p) => setProgress({ written: p.written, total: p.total }),
    );
    try {
      const done = await run.current.done;
      setResult(done);
      setProgress({ written: done.written, total });
    } catch (reason) {
      setError(asCommandError(reason));
    } finally {
      run.current = null;
      setRunning(false);
      void queries.invalidateQueries({ queryKey: ["as", identity] });
    }
  };

  return (
    <section className="screen" data-testid="generate">
      <div className="screen-head">
        <h2>Generate events</h2>
        <Link href={`/p/${enc(pid)}/new`}>New event…</Link>
      </div>
      <Status loading={registry.isPending || practice.isPending} error={registry.error ?? practice.error ?? null} />
      {practice.data && !canAppend && (
        <p className="notice" data-testid="generate-disabled">
          You ({identity ?? "nobody"}, {practice.data.role ?? "no role"}) may not append to this practice, so nothing can be generated
          here.
        </p>
      )}
      {registry.data && (
        <fieldset disabled={running || !canAppend} className="generate-form">
          <legend>Event types</legend>
          <div className="type-choices">
            {types.map((t) => (
              <label key={t.eventType}>
                <input
                  type="checkbox"
                  data-testid={`type-${t.eventType}`}
                  checked={selected.has(t.eventType)}
                  onChange={(e) => {
                    const next = new Set(selected);
                    if (e.target.checked) next.add(t.eventType);
                    else next.delete(t.eventType);
                    setChosen(next);
                  }}
                />
                {t.eventType}
              </label>
            ))}
          </div>
          <label>
            Count
            <input data-testid="generate-count" type="number" min={1} max={MAX_COUNT} value={count} onChange={(e) => setCount(e.target.value)} />
          </label>
          <label>
            Seed
            <input data-testid="generate-seed" value={seed} placeholder="random" onChange={(e) => setSeed(e.target.value)} />
          </label>
          <button type="button" className="primary" data-testid="generate-start" disabled={selected.size === 0} onClick={() => void start()}>
            Generate
          </button>
        </fieldset>
      )}
      {progress && (
        <div className="generate-progress">
          <progress data-testid="generate-progress" value={progress.written} max={progress.total} />
          <span data-testid="generate-written">
            {progress.written.toLocaleString()} / {progress.total.toLocaleString()}
          </span>
          {running && (
            <button type="button" data-testid="generate-cancel" onClick={() => run.current?.cancel()}>
              Cancel
            </button>
          )}
        </div>
      )}
      {error && <ErrorView error={error} />}
      {result && (
        <div className="notice ok" data-testid="generate-result" data-written={result.written} data-canceled={String(result.canceled)}>
          <p>
            {result.canceled ? "Canceled after" : "Wrote"} {result.written.toLocaleString()} events (seed {result.seed}).{" "}
            <Link href={`/p/${enc(pid)}/events`}>See them in the timeline</Link>
          </p>
          <table>
            <tbody>
              {result.counts.map((c) => (
                <tr key={c.eventType} data-testid="generate-count-row">
                  <td>{c.eventType}</td>
                  <td className="num">{c.count.toLocaleString()}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
