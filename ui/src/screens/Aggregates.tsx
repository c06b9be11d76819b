import { useState } from "react";
import { useInfiniteQuery } from "@tanstack/react-query";
import { useLocation } from "wouter";
import { asCommandError, useClient, useData, useIdentity } from "../client/context";
import type { CommandError, Page } from "../client/types";
import { VirtualList } from "../components/VirtualList";
import { Status } from "../ErrorView";
import { localTime, utcTitle } from "../lib/format";
import { enc, useParams } from "../router";

type Row = {
  aggregateType: string;
  aggregateId: string;
  version: number;
  eventCount: number;
  firstEventAt: string;
  lastEventAt: string;
  lastEventType: string;
};

const PAGE_SIZE = 500;

/** Aggregates of a practice: filter by type, search by id prefix, by recent activity or by id; virtualized, paged by cursor. */
export function Aggregates({ params }: { params: { pid: string } }) {
  const pid = params.pid;
  const client = useClient();
  const identity = useIdentity();
  const [, go] = useLocation();
  const [query, setQuery] = useParams();
  const type = query.get("type") || null;
  const prefix = query.get("prefix") || null;
  const wanted = query.get("sort") === "id" ? "id" : "recent";
  // The aggregate index (recent) has no id-prefix search: searching sorts by id.
  const sort = prefix ? "id" : wanted;
  const registry = useData(["registry"], (c) => c.registry());
  const types = [...new Set((registry.data ?? []).map((t) => t.aggregateType))].sort();

  const list = useInfiniteQuery<Page<Row>, CommandError>({
    queryKey: ["as", identity, "aggregates", pid, sort, type, prefix],
    enabled: identity !== null,
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
    retry: false,
    queryFn: async ({ pageParam }) => {
      const page = { cursor: pageParam as string | null, limit: PAGE_SIZE };
      try {
        if (sort === "recent") {
          const r = await client.recentAggregates(pid, { aggregateType: type, ...page });
          return { items: r.items, nextCursor: r.nextCursor };
        }
        const r = await client.aggregates(pid, { aggregateType: type, idPrefix: prefix, ...page });
        return { items: r.items.map((a) => ({ ...a, eventCount: a.version })), nextCursor: r.nextCursor };
      } catch (reason) {
        throw asCommandError(reason);
      }
    },
  });
  const items = list.data?.pages.flatMap((p) => p.items) ?? [];
  const open = (a: Row) => go(`/p/${enc(pid)}/a/${enc(a.aggregateType)}/${enc(a.aggregateId)}`);

  return (
    <section className="screen" data-testid="aggregates">
      <div className="screen-head">
        <h2>Aggregates</h2>
        <select
          aria-label="Aggregate type"
          data-testid="aggregate-type-filter"
          value={type ?? ""}
          onChange={(e) => setQuery({ type: e.target.value }, true)}
        >
          <option value="">all types</option>
          {types.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
        <PrefixSearch key={prefix ?? ""} prefix={prefix} onSearch={(p) => setQuery({ prefix: p }, true)} />
        <select
          aria-label="Order"
          data-testid="aggregate-sort"
          value={sort}
          disabled={prefix !== null}
          title={prefix ? "An id search is always sorted by id" : undefined}
          onChange={(e) => setQuery({ sort: e.target.value }, true)}
        >
          <option value="recent">most recently active first</option>
          <option value="id">by type, then id</option>
        </select>
        <span className="muted" data-testid="aggregate-count">
          {items.length} loaded{list.hasNextPage ? " (more as you scroll)" : ""}
        </span>
      </div>
      <Status
        loading={list.isPending && identity !== null}
        error={list.error}
        empty={list.isSuccess && items.length === 0}
        emptyText={prefix ? `No aggregate id starts with “${prefix}”.` : "No aggregates (the aggregate index may still be catching up)."}
      />
      {items.length > 0 && (
        <VirtualList
          items={items}
          rowHeight={30}
          itemKey={(a) => `${a.aggregateType}/${a.aggregateId}`}
          testid="aggregate-list"
          rowTestid="aggregate-row"
          label="Aggregates (↑/↓ or j/k, Enter to open)"
          hasMore={list.hasNextPage}
          loadingMore={list.isFetchingNextPage}
          onEndReached={() => void list.fetchNextPage()}
          onOpen={open}
          header={
            <div className="row head agg-grid" aria-hidden>
              <span>type</span>
              <span>id</span>
              <span className="num">version</span>
              <span className="num">events</span>
              <span>first event</span>
              <span>last event</span>
              <span>last event type</span>
            </div>
          }
          render={(a) => (
            <div className="agg-grid">
              <span>{a.aggregateType}</span>
              <span className="mono">{a.aggregateId}</span>
              <span className="num">{a.version}</span>
              <span className="num">{a.eventCount}</span>
              <span title={utcTitle(a.firstEventAt)}>{localTime(a.firstEventAt)}</span>
              <span title={utcTitle(a.lastEventAt)}>{localTime(a.lastEventAt)}</span>
              <span className="etype">{a.lastEventType}</span>
            </div>
          )}
        />
      )}
    </section>
  );
}

function PrefixSearch(props: { prefix: string | null; onSearch: (prefix: string) => void }) {
  const [text, setText] = useState(props.prefix ?? "");
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        props.onSearch(text.trim());
      }}
    >
      <input
        type="search"
        data-testid="aggregate-prefix"
        placeholder="id prefix"
        value={text}
        onChange={(e) => setText(e.target.value)}
      />
      <button type="submit" data-testid="aggregate-search">
        Search
      </button>
    </form>
  );
}
