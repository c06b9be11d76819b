import { useEffect, useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { commands, events } from "./bindings";
import type { CommandError, Event, NewEvent } from "./bindings";
import { ErrorView } from "./ErrorView";
import { bridgeError, isCommandError, unwrap } from "./result";
import { useLoad } from "./useLoad";

const PAGE = { cursor: null, limit: 20 };

/** One practice: recent events, aggregates, projectors, event types, append. */
export function PracticePanel({ practiceId }: { practiceId: string }) {
  const queries = useQueryClient();
  useEffect(() => {
    const stops = [
      events.eventsAppended.listen((e) => {
        if (e.payload.practiceId === practiceId)
          void queries.invalidateQueries({ queryKey: ["practice", practiceId, "events"] });
      }),
      events.checkpointMoved.listen((e) => {
        if (e.payload.practiceId === practiceId)
          void queries.invalidateQueries({ queryKey: ["practice", practiceId, "read-models"] });
      }),
    ];
    return () => stops.forEach((stop) => void stop.then((unlisten) => unlisten()));
  }, [practiceId, queries]);

  return (
    <div className="panel" data-testid="practice-panel">
      <RecentEvents practiceId={practiceId} />
      <Aggregates practiceId={practiceId} />
      <Activity practiceId={practiceId} />
      <Projectors practiceId={practiceId} />
      <EventTypes practiceId={practiceId} />
      <Append practiceId={practiceId} />
    </div>
  );
}

function EventRows({ items }: { items: Event[] }) {
  return (
    <table className="events">
      <thead>
        <tr>
          <th>seq</th>
          <th>time (UTC)</th>
          <th>type</th>
          <th>aggregate</th>
          <th>v</th>
          <th>actor</th>
        </tr>
      </thead>
      <tbody>
        {items.map((e) => (
          <tr key={e.id} data-testid="event-row">
            <td>{e.seq}</td>
            <td>{e.createdAt.replace("T", " ").slice(0, 19)}</td>
            <td>{e.eventType}</td>
            <td>
              {e.aggregateType}/{e.aggregateId.slice(0, 8)}
            </td>
            <td>{e.version}</td>
            <td className={`actor ${e.actorType}`}>{e.actorId ?? e.actorType}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function RecentEvents({ practiceId }: { practiceId: string }) {
  const page = useLoad(
    () => unwrap(commands.timeline(practiceId, emptyFilter(), "backward", PAGE)),
    ["practice", practiceId, "events", "latest"],
  );
  return (
    <section>
      <h3>Latest events</h3>
      {page.error && <ErrorView error={page.error} />}
      {page.data && <EventRows items={page.data.items} />}
    </section>
  );
}

function emptyFilter() {
  return {
    eventTypes: [],
    actorType: null,
    actorId: null,
    aggregateType: null,
    from: null,
    to: null,
    text: null,
  };
}

function Aggregates({ practiceId }: { practiceId: string }) {
  const [order, setOrder] = useState<"id" | "recent">("recent");
  const [open, setOpen] = useState<{ type: string; id: string } | null>(null);
  const list = useLoad(async () => {
    if (order === "recent") {
      const page = await unwrap(commands.recentAggregates(practiceId, null, PAGE));
      return page.items.map((a) => ({ ...a, count: a.eventCount }));
    }
    const page = await unwrap(
      commands.aggregates(practiceId, { aggregateType: null, idPrefix: null }, PAGE),
    );
    return page.items.map((a) => ({ ...a, count: a.version }));
  }, ["practice", practiceId, order === "recent" ? "read-models" : "events", "aggregates", order]);
  const history = useLoad(
    () =>
      open === null
        ? Promise.resolve(null)
        : unwrap(commands.aggregateEvents(practiceId, open.type, open.id, { cursor: null, limit: 100 })),
    ["practice", practiceId, "events", "aggregate", open?.type, open?.id],
  );
  return (
    <section>
      <h3>
        Aggregates{" "}
        <select aria-label="Order" value={order} onChange={(e) => setOrder(e.target.value as "id" | "recent")}>
          <option value="recent">most recently active</option>
          <option value="id">by type and id</option>
        </select>
      </h3>
      {list.error && <ErrorView error={list.error} />}
      <ul className="aggregates">
        {list.data?.map((a) => (
          <li key={`${a.aggregateType}/${a.aggregateId}`}>
            <button onClick={() => setOpen({ type: a.aggregateType, id: a.aggregateId })}>
              {a.aggregateType}/{a.aggregateId.slice(0, 8)} · v{a.version} · {a.lastEventType}
            </button>
          </li>
        ))}
      </ul>
      {history.error && <ErrorView error={history.error} />}
      {history.data && <EventRows items={history.data.items} />}
    </section>
  );
}

function Activity({ practiceId }: { practiceId: string }) {
  const days = useLoad(() => unwrap(commands.dailyActivity(practiceId, null, null)), [
    "practice",
    practiceId,
    "read-models",
    "activity",
  ]);
  const totals = new Map<string, number>();
  for (const d of days.data ?? []) totals.set(d.day, (totals.get(d.day) ?? 0) + d.events);
  const last = [...totals.entries()].slice(-7);
  return (
    <section>
      <h3>Activity (last days with events)</h3>
      {days.error && <ErrorView error={days.error} />}
      <ul className="inline">
        {last.map(([day, count]) => (
          <li key={day}>
            {day}: {count}
          </li>
        ))}
      </ul>
    </section>
  );
}

function Projectors({ practiceId }: { practiceId: string }) {
  const status = useLoad(() => unwrap(commands.projectorStatus(practiceId)), [
    "practice",
    practiceId,
    "read-models",
    "projectors",
  ]);
  const [error, setError] = useState<CommandError | null>(null);
  const act = async (what: "reset" | "retry", name: string) => {
    if (!window.confirm(`${what === "reset" ? "Rebuild" : "Retry"} ${name} for this practice?`)) return;
    try {
      await unwrap(
        what === "reset" ? commands.projectorReset(practiceId, name) : commands.projectorRetry(practiceId, name),
      );
      setError(null);
      status.reload();
    } catch (reason) {
      setError(isCommandError(reason) ? reason : bridgeError(reason));
    }
  };
  return (
    <section>
      <h3>Projectors</h3>
      {status.error && <ErrorView error={status.error} />}
      {error && <ErrorView error={error} />}
      <table>
        <tbody>
          {status.data?.map((p) => (
            <tr key={p.projectorName} data-testid="projector-row">
              <td>{p.projectorName}</td>
              <td>{p.state}</td>
              <td>
                {p.lastSeq}/{p.headSeq} (lag {p.lag})
              </td>
              <td>{p.lastError ?? ""}</td>
              <td>
                <button onClick={() => void act("retry", p.projectorName)} disabled={p.state !== "failed"}>
                  Retry
                </button>
                <button onClick={() => void act("reset", p.projectorName)}>Reset</button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function EventTypes({ practiceId }: { practiceId: string }) {
  const types = useLoad(() => unwrap(commands.registryList()), ["registry"]);
  const [chosen, setChosen] = useState<string>("");
  const detail = useLoad(
    () =>
      chosen === ""
        ? Promise.resolve(null)
        : Promise.all([
            unwrap(commands.registrySchema(chosen)),
            unwrap(commands.eventsByType(practiceId, chosen, { cursor: null, limit: 5 })),
          ]),
    ["practice", practiceId, "events", "by-type", chosen],
  );
  return (
    <section>
      <h3>Event types</h3>
      {types.error && <ErrorView error={types.error} />}
      <select aria-label="Event type" value={chosen} onChange={(e) => setChosen(e.target.value)}>
        <option value="">choose an event type…</option>
        {types.data?.map((t) => (
          <option key={t.eventType} value={t.eventType}>
            {t.eventType}
          </option>
        ))}
      </select>
      {detail.error && <ErrorView error={detail.error} />}
      {detail.data && (
        <div>
          <p>
            <strong>{detail.data[0].title}</strong> ({detail.data[0].aggregateType}):{" "}
            {detail.data[0].description}
          </p>
          <EventRows items={detail.data[1].items} />
        </div>
      )}
    </section>
  );
}

function Append({ practiceId }: { practiceId: string }) {
  const [text, setText] = useState("");
  const [error, setError] = useState<CommandError | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const submit = async () => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (reason) {
      setError({ code: "invalid", message: `not valid JSON: ${String(reason)}`, details: [] });
      return;
    }
    const withPractice = (e: object) => ({ practiceId, actorType: "human", ...e }) as NewEvent;
    try {
      const written = Array.isArray(parsed)
        ? await unwrap(commands.appendBatch(parsed.map(withPractice)))
        : [await unwrap(commands.append(withPractice(parsed as object)))];
      setDone(`appended ${written.length} event(s), last seq ${written[written.length - 1]?.seq}`);
      setError(null);
    } catch (reason) {
      setDone(null);
      setError(isCommandError(reason) ? reason : bridgeError(reason));
    }
  };
  return (
    <section>
      <h3>Append (JSON event, or an array for an all-or-nothing batch)</h3>
      <textarea
        rows={5}
        value={text}
        placeholder='{"aggregateType": "patient", "aggregateId": "…", "eventType": "patient.created", "payload": {…}, "expectedVersion": 0}'
        onChange={(e) => setText(e.target.value)}
      />
      <button onClick={() => void submit()}>Append</button>
      {done && <p className="muted">{done}</p>}
      {error && <ErrorView title="Not appended" error={error} />}
    </section>
  );
}
