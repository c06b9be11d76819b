// The web console's client: the HTTP API of `chronicle serve` (docs/http-api.md), same origin.
// Identity, theme and recent practices live in this browser's localStorage.
import type {
  AggregateFilter,
  AggregateSummary,
  AppendedUpdate,
  CheckpointUpdate,
  ChronicleClient,
  CommandError,
  DailyCount,
  Direction,
  Event,
  EventType,
  IndexedAggregate,
  Member,
  NewEvent,
  Page,
  PageRequest,
  PracticeListing,
  PracticeSummary,
  ProjectorStatus,
  Theme,
  TimelineFilter,
  Unsubscribe,
} from "./types";
import { readSse } from "./sse";

const KEYS = { identity: "chronicle.identity", theme: "chronicle.theme", recent: "chronicle.recentPractices" };

type Query = Record<string, string | number | null | undefined>;

export type HttpOptions = {
  /** Where the API is; "" (default) is the page's own origin. */
  baseUrl?: string;
  fetch?: typeof fetch;
  /** Where preferences are kept; null keeps them in memory only. */
  storage?: Pick<Storage, "getItem" | "setItem" | "removeItem"> | null;
  /** Delay before a dropped live stream reconnects (ms). */
  reconnectMs?: number;
};

function memoryStorage(): Pick<Storage, "getItem" | "setItem" | "removeItem"> {
  const map = new Map<string, string>();
  return {
    getItem: (k) => map.get(k) ?? null,
    setItem: (k, v) => void map.set(k, v),
    removeItem: (k) => void map.delete(k),
  };
}

/** Builds `path?query`, leaving out empty values. */
export function buildUrl(base: string, path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === null || value === undefined || value === "") continue;
    params.set(key, String(value));
  }
  const qs = params.toString();
  return `${base}${path}${qs ? `?${qs}` : ""}`;
}

const seg = encodeURIComponent;

function isCommandErrorShape(value: unknown): value is CommandError {
  return typeof value === "object" && value !== null && typeof (value as CommandError).code === "string";
}

/** Maps a non-2xx answer to a CommandError, whatever its body. */
export async function errorFromResponse(response: Response): Promise<CommandError> {
  let text = "";
  try {
    text = await response.text();
  } catch {
    // body unreadable: fall through to the status line
  }
  try {
    const body = JSON.parse(text) as { error?: unknown };
    if (body && isCommandErrorShape(body.error)) {
      const e = body.error;
      return {
        code: e.code,
        message: typeof e.message === "string" ? e.message : `HTTP ${response.status}`,
        details: Array.isArray(e.details) ? e.details : [],
      };
    }
  } catch {
    // not JSON: a proxy's page or a crash
  }
  const snippet = text.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim().slice(0, 200);
  return {
    code: response.status >= 500 ? "unavailable" : `http_${response.status}`,
    message: `The server answered ${response.status}${response.statusText ? ` ${response.statusText}` : ""}${snippet ? `: ${snippet}` : ""}`,
    details: [],
  };
}

export function createHttpClient(options: HttpOptions = {}): ChronicleClient {
  const base = options.baseUrl ?? "";
  const doFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  const storage = options.storage === undefined ? safeLocalStorage() : options.storage ?? memoryStorage();
  const reconnectMs = options.reconnectMs ?? 2000;
  const where = base || (typeof location !== "undefined" ? location.origin : "this address");

  const unavailable = (reason: unknown): CommandError => ({
    code: "unavailable",
    message: `The Chronicle server at ${where} cannot be reached: ${reason instanceof Error ? reason.message : String(reason)}`,
    details: [],
  });

  const headers = (json: boolean): Record<string, string> => {
    const h: Record<string, string> = { accept: "application/json" };
    const id = storage.getItem(KEYS.identity);
    if (id) h["x-user-id"] = id;
    if (json) h["content-type"] = "application/json";
    return h;
  };

  async function call<T>(method: "GET" | "POST", path: string, query?: Query, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await doFetch(buildUrl(base, path, query), {
        method,
        headers: headers(body !== undefined),
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (reason) {
      throw unavailable(reason);
    }
    if (!response.ok) throw await errorFromResponse(response);
    if (response.status === 204) return undefined as T;
    try {
      return (await response.json()) as T;
    } catch (reason) {
      throw {
        code: "unavailable",
        message: `The server's answer to ${path} was not JSON: ${String(reason)}`,
        details: [],
      } satisfies CommandError;
    }
  }

  const page = <T>(items: T[] | undefined, nextCursor: string | null | undefined): Page<T> => ({
    items: items ?? [],
    nextCursor: nextCursor ?? null,
  });
  const paging = (p: PageRequest): Query => ({ limit: p.limit ?? undefined, cursor: p.cursor ?? undefined });

  /** Follows an SSE stream, reconnecting after drops, until unsubscribed. */
  function stream(
    path: (resumeAfter: string | null) => string,
    onMessage: (event: string, id: string | null, data: string) => void,
  ): Unsubscribe {
    const abort = new AbortController();
    let lastId: string | null = null;
    const run = async () => {
      while (!abort.signal.aborted) {
        try {
          const response = await doFetch(base + path(lastId), {
            headers: { ...headers(false), accept: "text/event-stream" },
            signal: abort.signal,
          });
          if (response.ok && response.body) {
            await readSse(
              response.body,
              (m) => {
                if (m.id !== null) lastId = m.id;
                onMessage(m.event, m.id, m.data);
              },
              abort.signal,
            );
          }
        } catch {
          // dropped or refused: try again below
        }
        if (abort.signal.aborted) break;
        await new Promise((r) => setTimeout(r, reconnectMs));
      }
    };
    void run();
    return () => abort.abort();
  }

  const client: ChronicleClient = {
    transport: "http",
    identity: async () => storage.getItem(KEYS.identity),
    setIdentity: async (identity) => {
      if (identity) storage.setItem(KEYS.identity, identity);
      else storage.removeItem(KEYS.identity);
    },
    suggestedIdentities: async () =>
      storage.getItem(KEYS.identity) === null ? [] : (await call<{ users: string[] }>("GET", "/v1/users")).users,
    theme: async () => {
      const t = storage.getItem(KEYS.theme);
      return t === "light" || t === "dark" ? t : "system";
    },
    setTheme: async (theme: Theme) => storage.setItem(KEYS.theme, theme),
    recentPractices: async () => {
      try {
        const list = JSON.parse(storage.getItem(KEYS.recent) ?? "[]") as unknown;
        return Array.isArray(list) ? list.filter((x): x is string => typeof x === "string") : [];
      } catch {
        return [];
      }
    },
    notePracticeOpened: async (practiceId) => {
      const recent = await client.recentPractices();
      storage.setItem(KEYS.recent, JSON.stringify([practiceId, ...recent.filter((p) => p !== practiceId)].slice(0, 10)));
    },

    practices: async () => (await call<{ practices: PracticeSummary[] }>("GET", "/v1/practices")).practices,
    practiceDirectory: async () =>
      (await call<{ practices: PracticeListing[] }>("GET", "/v1/directory/practices")).practices,
    members: async (practiceId) =>
      (await call<{ members: Member[] }>("GET", `/v1/practices/${seg(practiceId)}/members`)).members,
    timeline: async (practiceId, filter: TimelineFilter, direction: Direction, p: PageRequest) => {
      const r = await call<{ events: Event[]; nextCursor?: string | null }>(
        "GET",
        `/v1/practices/${seg(practiceId)}/events`,
        {
          eventTypes: filter.eventTypes && filter.eventTypes.length > 0 ? filter.eventTypes.join(",") : undefined,
          actorType: filter.actorType,
          actorId: filter.actorId,
          aggregateType: filter.aggregateType,
          from: filter.from,
          to: filter.to,
          text: filter.text,
          afterSeq: filter.afterSeq,
          beforeSeq: filter.beforeSeq,
          direction,
          ...paging(p),
        },
      );
      return page(r.events, r.nextCursor);
    },
    event: (practiceId, eventId) => call<Event>("GET", `/v1/practices/${seg(practiceId)}/events/${seg(eventId)}`),
    aggregates: async (practiceId, filter: AggregateFilter, p) => {
      const r = await call<{ aggregates: AggregateSummary[]; nextCursor?: string | null }>(
        "GET",
        `/v1/practices/${seg(practiceId)}/aggregates`,
        { aggregateType: filter.aggregateType, idPrefix: filter.idPrefix, ...paging(p) },
      );
      return page(r.aggregates, r.nextCursor);
    },
    recentAggregates: async (practiceId, aggregateType, p) => {
      const r = await call<{ aggregates: IndexedAggregate[]; nextCursor?: string | null }>(
        "GET",
        `/v1/practices/${seg(practiceId)}/aggregates/recent`,
        { aggregateType, ...paging(p) },
      );
      return page(r.aggregates, r.nextCursor);
    },
    aggregateEvents: async (practiceId, aggregateType, aggregateId, p) => {
      const r = await call<{ events: Event[]; nextCursor?: string | null }>(
        "GET",
        `/v1/events/aggregate/${seg(practiceId)}/${seg(aggregateType)}/${seg(aggregateId)}`,
        { limit: p.limit ?? 100, cursor: p.cursor ?? undefined },
      );
      return page(r.events, r.nextCursor);
    },
    eventsByType: async (practiceId, eventType, p) => {
      const r = await call<{ events: Event[]; nextCursor?: string | null }>(
        "GET",
        `/v1/events/type/${seg(practiceId)}/${seg(eventType)}`,
        paging(p),
      );
      return page(r.events, r.nextCursor);
    },
    dailyActivity: async (practiceId, fromDay, toDay) =>
      (await call<{ days: DailyCount[] }>("GET", `/v1/practices/${seg(practiceId)}/activity`, { fromDay, toDay })).days,
    registry: async () => (await call<{ eventTypes: EventType[] }>("GET", "/v1/registry")).eventTypes,
    projectorStatus: async (practiceId) => {
      const ids = practiceId === null ? (await client.practices()).map((p) => p.practiceId) : [practiceId];
      const all = await Promise.all(
        ids.map((id) => call<{ projectors: ProjectorStatus[] }>("GET", `/v1/practices/${seg(id)}/projectors`)),
      );
      return all.flatMap((r) => r.projectors);
    },
    resetProjector: async (practiceId, name) =>
      call<void>("POST", `/v1/practices/${seg(practiceId)}/projectors/${seg(name)}/reset`),
    retryProjector: async (practiceId, name) =>
      call<void>("POST", `/v1/practices/${seg(practiceId)}/projectors/${seg(name)}/retry`),
    append: (event: NewEvent) => call<Event>("POST", "/v1/events/append", undefined, event),
    appendBatch: async (events: NewEvent[]) =>
      (await call<{ events: Event[] }>("POST", "/v1/events/append-batch", undefined, { events })).events,

    onAppended: (practiceId, callback: (update: AppendedUpdate) => void) =>
      stream(
        (after) => buildUrl("", `/v1/practices/${seg(practiceId)}/live`, { after }),
        (event, id, data) => {
          if (event !== "event") return;
          let seq = Number(id);
          try {
            seq = (JSON.parse(data) as Event).seq;
          } catch {
            // keep the id
          }
          if (Number.isFinite(seq)) callback({ practiceId, headSeq: seq });
        },
      ),
    onCheckpointMoved: (practiceId, callback: (update: CheckpointUpdate) => void) => {
      const last = new Map<string, string>();
      return stream(
        () => `/v1/practices/${seg(practiceId)}/projectors/live`,
        (event, _id, data) => {
          if (event !== "status") return;
          let list: ProjectorStatus[];
          try {
            list = (JSON.parse(data) as { projectors: ProjectorStatus[] }).projectors ?? [];
          } catch {
            return;
          }
          for (const p of list) {
            const key = `${p.lastSeq}|${p.headSeq}|${p.state}|${p.lastError ?? ""}`;
            if (last.get(p.projectorName) === key) continue;
            last.set(p.projectorName, key);
            callback({ practiceId, projectorName: p.projectorName });
          }
        },
      );
    },
  };
  return client;
}

function safeLocalStorage(): Pick<Storage, "getItem" | "setItem" | "removeItem"> {
  try {
    if (typeof localStorage !== "undefined") return localStorage;
  } catch {
    // private mode or no DOM
  }
  return memoryStorage();
}
