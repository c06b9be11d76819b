// The web console's client: the HTTP API of `chronicle serve` (docs/http-api.md), same origin.
// Identity, theme and recent practices live in this browser's localStorage.
import type {
  ActivityList,
  AppendedEvents,
  DirectoryList,
  ErrorCode,
  GeneratedEvents,
  MemberList,
  PracticeList,
  ProjectorStatusList,
  RegistryList,
  UserList,
} from "../bindings";
import type { Appended, CheckpointMoved, ChronicleClient, CommandError, Event, Page, Theme, Unsubscribe } from "./types";
import type { ChainHead, ChainReport, ExportCheck, ExportOptions, ExportRequest, ExportResult } from "./types";
import { fileNameFromDisposition, manifestFromHeader } from "../lib/exports";
import { readSse } from "./sse";

const KEYS = { identity: "chronicle.identity", theme: "chronicle.theme", recent: "chronicle.recentPractices" };

/** A query string's values: the layer's query types (lists are sent comma-separated). */
type Query = Record<string, string | number | string[] | null | undefined>;

export type HttpOptions = {
  /** Where the API is; "" (default) is the page's own origin. */
  baseUrl?: string;
  fetch?: typeof fetch;
  /** Where preferences are kept; null keeps them in memory only. */
  storage?: Pick<Storage, "getItem" | "setItem" | "removeItem"> | null;
  /** Delay before a dropped live stream reconnects (ms). */
  reconnectMs?: number;
  /** Hands a finished export to the user (default: the browser's downloads). */
  download?: (file: Blob, name: string) => void;
};

/** Saves `file` through the browser's downloads, as `name`. */
export function browserDownload(file: Blob, name: string): void {
  const url = URL.createObjectURL(file);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.style.display = "none";
  document.body.append(link);
  link.click();
  link.remove();
  // The download has started from the object URL; free it once the browser has taken it.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

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
    if (Array.isArray(value)) {
      if (value.length > 0) params.set(key, value.join(","));
      continue;
    }
    params.set(key, String(value));
  }
  const qs = params.toString();
  return `${base}${path}${qs ? `?${qs}` : ""}`;
}

const seg = encodeURIComponent;

/** Events per generate request: the web console asks in chunks, so it can show progress and
 * stop between them (one request is one batch run on the server, with no progress of its own). */
export const GENERATE_CHUNK = 1000;

/** How many recently opened practices the browser remembers (the layer's MAX_RECENT_PRACTICES). */
const MAX_RECENT = 10;

/** The code for an answer that is not Chronicle's error shape (a proxy's page, a crash). */
function codeForStatus(status: number): ErrorCode {
  if (status === 404) return "not_found";
  if (status === 413) return "payload_too_large";
  return status >= 500 ? "unavailable" : "internal";
}

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
    code: codeForStatus(response.status),
    message: `The server answered ${response.status}${response.statusText ? ` ${response.statusText}` : ""}${snippet ? `: ${snippet}` : ""}`,
    details: [],
  };
}

export function createHttpClient(options: HttpOptions = {}): ChronicleClient {
  const base = options.baseUrl ?? "";
  const doFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  const storage = options.storage === undefined ? safeLocalStorage() : options.storage ?? memoryStorage();
  const reconnectMs = options.reconnectMs ?? 2000;
  const download = options.download ?? browserDownload;
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

  /**
   * Downloads an export: the server records it and streams the file, with its manifest in a
   * header; the body is gathered (counting bytes for the progress) and handed to the
   * browser's downloads. A CSV's manifest is offered as `FILE.manifest.json`, so the CLI
   * can check the pair.
   */
  async function exportTimeline(practiceId: string, request: ExportRequest, options: ExportOptions): Promise<ExportResult> {
    const cancelled = (): CommandError => ({ code: "unavailable", message: "The export was cancelled; nothing was saved.", details: [] });
    let response: Response;
    try {
      response = await doFetch(buildUrl(base, `/v1/practices/${seg(practiceId)}/exports`), {
        method: "POST",
        headers: { ...headers(true), accept: "*/*" },
        body: JSON.stringify(request),
        signal: options.signal,
      });
    } catch (reason) {
      throw options.signal.aborted ? cancelled() : unavailable(reason);
    }
    if (!response.ok) throw await errorFromResponse(response);
    const manifest = manifestFromHeader(response.headers.get("x-chronicle-manifest"));
    if (manifest === null)
      throw { code: "unavailable", message: "The server's export came without its manifest (x-chronicle-manifest)", details: [] } satisfies CommandError;
    const fileName = fileNameFromDisposition(response.headers.get("content-disposition")) ?? options.suggestedName;
    const chunks: Uint8Array<ArrayBuffer>[] = [];
    let received = 0;
    try {
      if (response.body) {
        const reader = response.body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          chunks.push(value);
          received += value.byteLength;
          options.onProgress({ unit: "bytes", done: received, total: null });
        }
      }
    } catch (reason) {
      throw options.signal.aborted ? cancelled() : unavailable(reason);
    }
    download(new Blob(chunks, { type: response.headers.get("content-type") ?? "application/octet-stream" }), fileName);
    const manifestName = `${fileName}.manifest.json`;
    const manifestFile =
      request.format === "csv"
        ? { name: manifestName, save: () => download(new Blob([`${JSON.stringify(manifest)}\n`], { type: "application/json" }), manifestName) }
        : null;
    return { manifest, fileName, savedTo: null, manifestFile };
  }

  /** Uploads an export file to the server's offline check. */
  async function checkUpload(file: Blob): Promise<ExportCheck> {
    let response: Response;
    try {
      response = await doFetch(buildUrl(base, "/v1/exports/check"), {
        method: "POST",
        headers: { ...headers(false), "content-type": "application/octet-stream" },
        body: file,
      });
    } catch (reason) {
      throw unavailable(reason);
    }
    if (!response.ok) throw await errorFromResponse(response);
    return (await response.json()) as ExportCheck;
  }

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
      storage.getItem(KEYS.identity) === null ? [] : (await call<UserList>("GET", "/v1/users")).users,
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
      storage.setItem(KEYS.recent, JSON.stringify([practiceId, ...recent.filter((p) => p !== practiceId)].slice(0, MAX_RECENT)));
    },

    practices: async () => (await call<PracticeList>("GET", "/v1/practices")).practices,
    practice: (practiceId) => call("GET", `/v1/practices/${seg(practiceId)}`),
    practiceDirectory: async () => (await call<DirectoryList>("GET", "/v1/directory/practices")).practices,
    members: (practiceId) => call<MemberList>("GET", `/v1/practices/${seg(practiceId)}/members`),
    timeline: (practiceId, query) => call("GET", `/v1/practices/${seg(practiceId)}/events`, query),
    event: (practiceId, eventId) => call("GET", `/v1/practices/${seg(practiceId)}/events/${seg(eventId)}`),
    aggregates: (practiceId, query) => call("GET", `/v1/practices/${seg(practiceId)}/aggregates`, query),
    recentAggregates: (practiceId, query) =>
      call("GET", `/v1/practices/${seg(practiceId)}/aggregates/recent`, query),
    aggregateEvents: (practiceId, aggregateType, aggregateId, query) =>
      call<Page<Event>>(
        "GET",
        `/v1/practices/${seg(practiceId)}/aggregates/${seg(aggregateType)}/${seg(aggregateId)}/events`,
        query,
      ),
    eventsByType: (practiceId, eventType, query) =>
      call("GET", `/v1/practices/${seg(practiceId)}/event-types/${seg(eventType)}/events`, query),
    dailyActivity: async (practiceId, query) =>
      (await call<ActivityList>("GET", `/v1/practices/${seg(practiceId)}/activity`, query)).days,
    registry: async () => (await call<RegistryList>("GET", "/v1/registry")).eventTypes,
    projectorStatus: async (practiceId) =>
      (await call<ProjectorStatusList>("GET", "/v1/projectors", { practiceId })).projectors,
    resetProjector: async (practiceId, name) =>
      call<void>("POST", `/v1/practices/${seg(practiceId)}/projectors/${seg(name)}/reset`),
    retryProjector: async (practiceId, name) =>
      call<void>("POST", `/v1/practices/${seg(practiceId)}/projectors/${seg(name)}/retry`),
    skipProjectorEvent: (practiceId, name, request) =>
      call<Event>("POST", `/v1/practices/${seg(practiceId)}/projectors/${seg(name)}/skip`, undefined, request),
    append: (event) => call<Event>("POST", "/v1/events/append", undefined, event),
    appendBatch: async (events) =>
      (await call<AppendedEvents>("POST", "/v1/events/append-batch", undefined, { events })).events,
    verify: (practiceId, query) =>
      call<ChainReport>("GET", `/v1/practices/${seg(practiceId)}/verify`, {
        againstHash: query?.againstHash,
        againstSeq: query?.againstSeq,
      }),
    chainHead: (practiceId) => call<ChainHead>("GET", `/v1/practices/${seg(practiceId)}/head`),
    exportTimeline,
    checkExport: async (file) => {
      if (file.kind !== "upload")
        throw { code: "invalid", message: "The web console checks an uploaded file; choose it or drop it here.", details: [] } satisfies CommandError;
      return checkUpload(file.file);
    },
    dryRun: (event) => call<Event>("POST", "/v1/events/append", { dryRun: "true" }, event),
    generateEvents: (practiceId, request, onProgress) => {
      let canceled = false;
      const run = async (): Promise<GeneratedEvents> => {
        const counts = new Map<string, number>();
        let written = 0;
        let seed = request.seed ?? null;
        let chunk = 0;
        while (written < request.count && !canceled) {
          // Chunk i uses seed + i: the same seed and count repeat the same events.
          const answer = await call<GeneratedEvents>("POST", `/v1/practices/${seg(practiceId)}/generate`, undefined, {
            eventTypes: request.eventTypes,
            count: Math.min(GENERATE_CHUNK, request.count - written),
            seed: seed === null ? null : seed + chunk,
          });
          if (seed === null) seed = answer.seed;
          chunk += 1;
          written += answer.written;
          for (const c of answer.counts) counts.set(c.eventType, (counts.get(c.eventType) ?? 0) + c.count);
          onProgress({ practiceId, written, total: request.count });
        }
        return {
          practiceId,
          written,
          seed: seed ?? 0,
          counts: [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([eventType, count]) => ({ eventType, count })),
          canceled: written < request.count,
        };
      };
      return {
        done: run(),
        cancel: () => {
          canceled = true;
        },
      };
    },

    onAppended: (practiceId, callback: (update: Appended) => void) =>
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
    onCheckpointMoved: (practiceId, callback: (update: CheckpointMoved) => void) =>
      stream(
        () => `/v1/practices/${seg(practiceId)}/projectors/live`,
        (event, _id, data) => {
          if (event !== "checkpointMoved") return;
          try {
            callback(JSON.parse(data) as CheckpointMoved);
          } catch {
            // a malformed event: wait for the next
          }
        },
      ),
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
