import { useEffect, useMemo } from "react";
import { useInfiniteQuery, useQueryClient } from "@tanstack/react-query";
import { Link, Redirect } from "wouter";
import { asCommandError, useClient, useData, useIdentity } from "../client/context";
import type { CommandError, Event, Page } from "../client/types";
import { EVENT_ROW_HEIGHT, EventCells, EventHeader, LiveToggle } from "../components/events";
import { ExportButton } from "../components/ExportDialog";
import { JsonTree } from "../components/JsonTree";
import { VirtualList } from "../components/VirtualList";
import { ErrorView, Status } from "../ErrorView";
import { useLiveTail } from "../hooks";
import { FoldError, stateAndDiff } from "../lib/fold";
import type { Change } from "../lib/fold";
import { localTime, utcTitle } from "../lib/format";
import { enc, useParams } from "../router";

const PAGE_SIZE = 1000;

/** `#/p/PID/e/EVENT`: a deep link to an event opens it in its aggregate's timeline. */
export function EventRedirect({ params }: { params: { pid: string; eventId: string } }) {
  const event = useData(["event", params.pid, params.eventId], (c) => c.event(params.pid, params.eventId));
  if (event.data)
    return (
      <Redirect
        replace
        to={`/p/${enc(params.pid)}/a/${enc(event.data.aggregateType)}/${enc(event.data.aggregateId)}?v=${event.data.version}`}
      />
    );
  return (
    <section className="screen">
      <Status loading={event.isPending} error={event.error} />
    </section>
  );
}

/** Every event of one aggregate in version order; the selected one's payload, state at its version and diff. */
export function AggregateTimeline({ params }: { params: { pid: string; type: string; id: string } }) {
  const { pid, type, id } = params;
  const client = useClient();
  const identity = useIdentity();
  const queries = useQueryClient();
  const [query, setQuery] = useParams();
  const selected = Number(query.get("v") ?? "0") || null;
  const key = ["as", identity, "aggregate", pid, type, id];
  const list = useInfiniteQuery<Page<Event>, CommandError>({
    queryKey: key,
    enabled: identity !== null,
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
    retry: false,
    queryFn: async ({ pageParam }) => {
      try {
        return await client.aggregateEvents(pid, type, id, { cursor: pageParam as string | null, limit: PAGE_SIZE });
      } catch (reason) {
        throw asCommandError(reason);
      }
    },
  });
  const events = useMemo(() => list.data?.pages.flatMap((p) => p.items) ?? [], [list.data]);
  const live = useLiveTail(pid, () => void queries.invalidateQueries({ queryKey: key }));
  const loadedTo = events.length;
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = list;
  // State at version N needs versions 1..N: fetch further pages until they are here.
  useEffect(() => {
    if (selected !== null && selected > loadedTo && hasNextPage && !isFetchingNextPage) void fetchNextPage();
  }, [selected, loadedTo, hasNextPage, isFetchingNextPage, fetchNextPage]);
  const current = selected !== null ? events[selected - 1] : undefined;

  return (
    <section className="screen" data-testid="aggregate-timeline">
      <div className="screen-head">
        <h2>
          <Link href={`/p/${enc(pid)}/aggregates?type=${enc(type)}`}>{type}</Link> / <span className="mono">{id}</span>
        </h2>
        <span className="muted" data-testid="aggregate-version">
          {events.length > 0 ? `version ${events[events.length - 1]!.version}${hasNextPage ? "+" : ""}` : ""}
        </span>
        <Link href={`/p/${enc(pid)}/new?aggregateType=${enc(type)}&aggregate=${enc(id)}`} data-testid="new-event-on-aggregate">
          New event…
        </Link>
        <LiveToggle paused={live.paused} pending={live.pending} onToggle={live.toggle} />
        <ExportButton practiceId={pid} scope={{ kind: "aggregate", aggregateType: type, aggregateId: id }} />
      </div>
      <Status
        loading={list.isPending && identity !== null}
        error={list.error}
        empty={list.isSuccess && events.length === 0}
        emptyText="This aggregate has no events: the id may be mistyped."
      />
      {events.length > 0 && (
        <div className="split">
          <VirtualList
            className="compact"
            items={events}
            rowHeight={EVENT_ROW_HEIGHT}
            itemKey={(e) => e.id}
            testid="aggregate-events"
            rowTestid="event-row"
            label="Events of this aggregate (↑/↓ or j/k, Enter to open)"
            selectedKey={current?.id ?? null}
            hasMore={hasNextPage}
            loadingMore={isFetchingNextPage}
            onEndReached={() => void fetchNextPage()}
            onOpen={(e) => setQuery({ v: String(e.version) }, true)}
            header={<EventHeader showAggregate={false} />}
            render={(e) => <EventCells event={e} showAggregate={false} />}
          />
          <div className="detail">
            {selected === null && <p className="muted">Pick an event to see its payload, the state at its version and what it changed.</p>}
            {selected !== null && !current && (hasNextPage || list.isFetching ? <p className="muted">Loading version {selected}…</p> : <p className="muted">This aggregate has no version {selected}.</p>)}
            {current && <EventDetail events={events} event={current} />}
          </div>
        </div>
      )}
    </section>
  );
}

function EventDetail({ events, event }: { events: Event[]; event: Event }) {
  const folded = useMemo(() => {
    try {
      return { ok: stateAndDiff(events, event.version) } as const;
    } catch (reason) {
      const error: CommandError = {
        code: "internal",
        message: reason instanceof FoldError ? reason.message : String(reason),
        details: [],
      };
      return { error } as const;
    }
  }, [events, event.version]);
  return (
    <article className="event-detail" data-testid="event-detail" data-event-id={event.id} data-version={event.version}>
      <h3>
        {event.eventType} <span className="muted">v{event.version} · seq {event.seq}</span>
      </h3>
      <dl className="facts">
        <dt>time</dt>
        <dd title={utcTitle(event.createdAt)}>
          {localTime(event.createdAt)} <span className="muted">({event.createdAt} UTC)</span>
        </dd>
        <dt>actor</dt>
        <dd className={`actor ${event.actorType}`}>
          {event.actorType}
          {event.actorId ? ` · ${event.actorId}` : ""}
        </dd>
        <dt>recorded by</dt>
        <dd data-testid="event-recorded-by" title="The principal that appended it: covered by the hash, never set by the client">
          {event.recordedBy ?? <span className="muted">not recorded (chain form 1)</span>}
        </dd>
        <dt>id</dt>
        <dd className="mono">
          <Link href={`/p/${enc(event.practiceId)}/e/${enc(event.id)}`} data-testid="event-link">
            {event.id}
          </Link>
        </dd>
        <dt>hash</dt>
        <dd className="mono small">{event.hash}</dd>
      </dl>
      <Link href={`/p/${enc(event.practiceId)}/new?template=${enc(event.id)}`} data-testid="duplicate-as-template">
        Duplicate as template
      </Link>
      <h4>Payload</h4>
      <JsonTree value={event.payload} testid="payload-json" />
      {"error" in folded && folded.error ? (
        <ErrorView error={folded.error} />
      ) : (
        <>
          <h4 data-testid="state-title">State at version {event.version}</h4>
          <div data-testid="state-view">
            <JsonTree value={folded.ok!.state} testid="state-json" />
          </div>
          <h4>{event.version === 1 ? "Created with" : `Changes from version ${event.version - 1}`}</h4>
          <DiffView changes={folded.ok!.changes} />
        </>
      )}
    </article>
  );
}

function show(value: unknown): string {
  return value === undefined ? "" : JSON.stringify(value);
}

function DiffView({ changes }: { changes: Change[] }) {
  if (changes.length === 0)
    return (
      <p className="muted" data-testid="diff-view">
        No change to the state.
      </p>
    );
  return (
    <table className="diff" data-testid="diff-view">
      <thead>
        <tr>
          <th>path</th>
          <th>change</th>
          <th>before</th>
          <th>after</th>
        </tr>
      </thead>
      <tbody>
        {changes.map((c) => (
          <tr key={c.path} className={c.kind} data-testid="diff-row">
            <td className="mono">{c.path}</td>
            <td>{c.kind}</td>
            <td className="mono">{c.kind === "added" ? "" : show(c.oldValue)}</td>
            <td className="mono">{c.kind === "removed" ? "" : show(c.value)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
