import { useCallback, useEffect, useLayoutEffect, useRef, useState } from "react";
import { useLocation } from "wouter";
import { asCommandError, useClient, useData, useIdentity } from "../client/context";
import type { ActorType } from "../bindings";
import type { CommandError, Event, TimelineFilter } from "../client/types";
import { EVENT_ROW_HEIGHT, EventCells, EventHeader, LiveToggle } from "../components/events";
import { ExportButton } from "../components/ExportDialog";
import { VirtualList } from "../components/VirtualList";
import { Status } from "../ErrorView";
import { useLiveTail } from "../hooks";
import { fromLocalInput, toLocalInput } from "../lib/format";
import { enc, useParams } from "../router";

const PAGE_SIZE = 200;
const FILTER_KEYS = ["types", "actorType", "actorId", "aggregateType", "from", "to", "text"] as const;

/** The engine's timeline filter from the URL query. */
export function filterFromParams(params: URLSearchParams): TimelineFilter {
  const types = (params.get("types") ?? "").split(",").map((t) => t.trim()).filter(Boolean);
  const actor = params.get("actorType");
  return {
    eventTypes: types,
    actorType: actor === "human" || actor === "ai" || actor === "system" ? (actor as ActorType) : null,
    actorId: params.get("actorId") || null,
    aggregateType: params.get("aggregateType") || null,
    from: params.get("from") || null,
    to: params.get("to") || null,
    text: params.get("text") || null,
  };
}

type Window = {
  events: Event[]; // newest first
  olderCursor: string | null;
  atHead: boolean;
  error: CommandError | null;
  loading: boolean;
  loadingOlder: boolean;
  loadingNewer: boolean;
};

const EMPTY: Window = { events: [], olderCursor: null, atHead: true, error: null, loading: true, loadingOlder: false, loadingNewer: false };

/**
 * A window on the practice's filtered timeline, newest first: the first page from the head,
 * older pages by cursor as the user scrolls, newer ones (live tail, or "Newer") forward from
 * the newest event shown. Never loads the whole history.
 */
function useTimelineWindow(practiceId: string, filter: TimelineFilter, filterKey: string) {
  const client = useClient();
  const identity = useIdentity();
  const [state, setState] = useState<Window>(EMPTY);
  const generation = useRef(0);
  const busy = useRef({ older: false, newer: false });
  const stateRef = useRef(state);
  useEffect(() => {
    stateRef.current = state;
  });

  useEffect(() => {
    const gen = ++generation.current;
    if (identity === null) return;
    client.timeline(practiceId, { ...filter, direction: "backward", limit: PAGE_SIZE }).then(
      (page) => {
        if (gen !== generation.current) return;
        performance.mark("timeline:data");
        setState({ ...EMPTY, loading: false, events: page.items, olderCursor: page.nextCursor });
      },
      (reason) => gen === generation.current && setState({ ...EMPTY, loading: false, error: asCommandError(reason) }),
    );
    // filterKey stands for filter
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, practiceId, filterKey, identity]);

  const loadOlder = useCallback(() => {
    const s = stateRef.current;
    if (busy.current.older || s.olderCursor === null) return;
    busy.current.older = true;
    const gen = generation.current;
    setState((x) => ({ ...x, loadingOlder: true }));
    client.timeline(practiceId, { ...filter, direction: "backward", cursor: s.olderCursor, limit: PAGE_SIZE }).then(
      (page) => {
        busy.current.older = false;
        if (gen !== generation.current) return;
        setState((x) => {
          const last = x.events[x.events.length - 1]?.seq ?? Infinity;
          return { ...x, loadingOlder: false, events: [...x.events, ...page.items.filter((e) => e.seq < last)], olderCursor: page.nextCursor };
        });
      },
      (reason) => {
        busy.current.older = false;
        if (gen === generation.current) setState((x) => ({ ...x, loadingOlder: false, error: asCommandError(reason) }));
      },
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, practiceId, filterKey]);

  const loadNewer = useCallback(() => {
    const s = stateRef.current;
    if (busy.current.newer || s.loading) return;
    const top = s.events[0];
    busy.current.newer = true;
    const gen = generation.current;
    setState((x) => ({ ...x, loadingNewer: true }));
    // Forward from the newest event shown; the filter's other fields still apply.
    const request = top
      ? client.timeline(practiceId, { ...filter, afterSeq: top.seq, direction: "forward", limit: PAGE_SIZE })
      : client.timeline(practiceId, { ...filter, direction: "backward", limit: PAGE_SIZE });
    request.then(
      (page) => {
        busy.current.newer = false;
        if (gen !== generation.current) return;
        setState((x) => {
          const topSeq = x.events[0]?.seq ?? 0;
          const fresh = top ? page.items.filter((e) => e.seq > topSeq).reverse() : page.items.filter((e) => e.seq > topSeq);
          return { ...x, loadingNewer: false, events: [...fresh, ...x.events], atHead: !top || page.nextCursor === null, error: null };
        });
      },
      (reason) => {
        busy.current.newer = false;
        if (gen === generation.current) setState((x) => ({ ...x, loadingNewer: false, error: asCommandError(reason) }));
      },
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, practiceId, filterKey]);

  return { state, loadOlder, loadNewer };
}

/** The practice timeline: the engine's filters (kept in the URL), cursor paging both ways, live tail. */
export function Timeline({ params }: { params: { pid: string } }) {
  const [query] = useParams();
  const identity = useIdentity();
  const filterKey = FILTER_KEYS.map((k) => query.get(k) ?? "").join("|");
  if (identity === null)
    return (
      <section className="screen" data-testid="timeline">
        <p className="muted">Choose who to view as (top right) to read this practice's timeline.</p>
      </section>
    );
  // A new filter (or identity) is a new window: remount rather than reset state.
  return <TimelineWindow key={`${identity}|${params.pid}|${filterKey}`} pid={params.pid} filterKey={filterKey} />;
}

function TimelineWindow({ pid, filterKey }: { pid: string; filterKey: string }) {
  const [query, setQuery] = useParams();
  const [, go] = useLocation();
  const filter = filterFromParams(query);
  const { state, loadOlder, loadNewer } = useTimelineWindow(pid, filter, filterKey);
  const live = useLiveTail(pid, loadNewer);

  // Instrumentation: from the first page's data to its first paint.
  const measured = useRef(false);
  const hasRows = !state.loading && state.error === null;
  useLayoutEffect(() => {
    if (!hasRows || measured.current) return;
    measured.current = true;
    requestAnimationFrame(() =>
      setTimeout(() => {
        performance.mark("timeline:rendered");
        try {
          performance.measure("timeline:first-page", "timeline:data", "timeline:rendered");
        } catch {
          // the data mark was cleared
        }
      }, 0),
    );
  }, [hasRows]);

  return (
    <section className="screen" data-testid="timeline">
      <div className="screen-head">
        <h2>Timeline</h2>
        <button type="button" data-testid="timeline-newer" disabled={state.loadingNewer} onClick={loadNewer}>
          ↑ Newer
        </button>
        <button type="button" data-testid="timeline-older" disabled={state.olderCursor === null || state.loadingOlder} onClick={loadOlder}>
          ↓ Older
        </button>
        <LiveToggle paused={live.paused} pending={live.pending} onToggle={live.toggle} />
        <ExportButton practiceId={pid} scope={{ kind: "timeline", filter }} />
        <span className="muted" data-testid="timeline-count">
          {state.events.length} loaded{state.olderCursor ? ", older on scroll" : ", back to the first event"}
        </span>
      </div>
      <FilterForm query={query} onApply={(next) => setQuery(next)} />
      <Status
        loading={state.loading}
        error={state.error}
        empty={!state.loading && !state.error && state.events.length === 0}
        emptyText="No event matches these filters."
        testid="timeline-empty"
      />
      {state.events.length > 0 && (
        <VirtualList
          items={state.events}
          rowHeight={EVENT_ROW_HEIGHT}
          itemKey={(e) => e.id}
          testid="timeline-list"
          rowTestid="event-row"
          label="Events, newest first (↑/↓ or j/k, Enter to open)"
          hasMore={state.olderCursor !== null}
          loadingMore={state.loadingOlder}
          onEndReached={loadOlder}
          onOpen={(e) => go(`/p/${enc(pid)}/a/${enc(e.aggregateType)}/${enc(e.aggregateId)}?v=${e.version}`)}
          header={<EventHeader />}
          render={(e) => <EventCells event={e} />}
        />
      )}
    </section>
  );
}

function FilterForm(props: { query: URLSearchParams; onApply: (next: Record<string, string | null>) => void }) {
  const registry = useData(["registry"], (c) => c.registry());
  const q = props.query;
  const [types, setTypes] = useState<string[]>((q.get("types") ?? "").split(",").filter(Boolean));
  const [actorType, setActorType] = useState(q.get("actorType") ?? "");
  const [actorId, setActorId] = useState(q.get("actorId") ?? "");
  const [aggregateType, setAggregateType] = useState(q.get("aggregateType") ?? "");
  const [from, setFrom] = useState(toLocalInput(q.get("from")));
  const [to, setTo] = useState(toLocalInput(q.get("to")));
  const [text, setText] = useState(q.get("text") ?? "");
  const eventTypes = (registry.data ?? []).map((t) => t.eventType).sort();
  const aggregateTypes = [...new Set((registry.data ?? []).map((t) => t.aggregateType))].sort();
  return (
    <form
      className="filters"
      data-testid="timeline-filters"
      onSubmit={(e) => {
        e.preventDefault();
        props.onApply({
          types: types.join(","),
          actorType,
          actorId: actorId.trim(),
          aggregateType,
          from: fromLocalInput(from),
          to: fromLocalInput(to),
          text: text.trim(),
        });
      }}
    >
      <label>
        Event types
        <select
          multiple
          size={4}
          data-testid="filter-event-types"
          value={types}
          onChange={(e) => setTypes([...e.target.selectedOptions].map((o) => o.value))}
        >
          {eventTypes.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
      </label>
      <label>
        Actor type
        <select data-testid="filter-actor-type" value={actorType} onChange={(e) => setActorType(e.target.value)}>
          <option value="">any</option>
          <option value="human">human</option>
          <option value="ai">ai</option>
          <option value="system">system</option>
        </select>
      </label>
      <label>
        Actor id
        <input data-testid="filter-actor-id" value={actorId} onChange={(e) => setActorId(e.target.value)} placeholder="e.g. fran.frontdesk" />
      </label>
      <label>
        Aggregate type
        <select data-testid="filter-aggregate-type" value={aggregateType} onChange={(e) => setAggregateType(e.target.value)}>
          <option value="">any</option>
          {aggregateTypes.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
      </label>
      <label>
        From (local)
        <input type="datetime-local" data-testid="filter-from" value={from} onChange={(e) => setFrom(e.target.value)} />
      </label>
      <label>
        Before (local)
        <input type="datetime-local" data-testid="filter-to" value={to} onChange={(e) => setTo(e.target.value)} />
      </label>
      <label>
        Payload contains
        <input type="search" data-testid="filter-text" value={text} onChange={(e) => setText(e.target.value)} placeholder="text" />
      </label>
      <div className="filter-buttons">
        <button type="submit" data-testid="filter-apply">
          Apply filters
        </button>
        <button
          type="button"
          data-testid="filter-clear"
          onClick={() => props.onApply(Object.fromEntries(FILTER_KEYS.map((k) => [k, null])))}
        >
          Clear
        </button>
      </div>
    </form>
  );
}
