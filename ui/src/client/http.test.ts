import { describe, expect, it, vi } from "vitest";
import { buildUrl, createHttpClient, errorFromResponse } from "./http";
import type { Appended, CheckpointMoved } from "./types";

type Call = { url: string; init: RequestInit | undefined };

function stub(respond: (url: string, init?: RequestInit) => Response | Promise<Response>) {
  const calls: Call[] = [];
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    calls.push({ url: String(input), init });
    return respond(String(input), init);
  }) as unknown as typeof globalThis.fetch;
  return { fetch, calls };
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

function client(respond: Parameters<typeof stub>[0], identity: string | null = "olivia.owner") {
  const s = stub(respond);
  const c = createHttpClient({ baseUrl: "http://api", fetch: s.fetch, storage: null, reconnectMs: 5 });
  if (identity) void c.setIdentity(identity);
  return { c, calls: s.calls };
}

const header = (call: Call, name: string) => (call.init?.headers as Record<string, string> | undefined)?.[name];

describe("buildUrl", () => {
  it("leaves out empty values and encodes the rest", () => {
    expect(buildUrl("", "/x", { a: "1", b: null, c: undefined, d: "", e: "a b&c" })).toBe("/x?a=1&e=a+b%26c");
    expect(buildUrl("http://h", "/x")).toBe("http://h/x");
  });
});

describe("HTTP client requests", () => {
  it("sends x-user-id and builds the timeline query", async () => {
    const { c, calls } = client(() => json({ items: [{ seq: 3 }], nextCursor: "Mw" }));
    const page = await c.timeline("p/1", {
      eventTypes: ["a.b", "c.d"],
      actorType: "ai",
      actorId: null,
      aggregateType: "patient",
      from: "2026-01-01T00:00:00Z",
      to: null,
      text: "x y",
      afterSeq: 41,
      direction: "backward",
      cursor: "abc",
      limit: 50,
    });
    expect(page).toEqual({ items: [{ seq: 3 }], nextCursor: "Mw" });
    const url = new URL(calls[0]!.url);
    expect(url.pathname).toBe("/v1/practices/p%2F1/events");
    expect(Object.fromEntries(url.searchParams)).toEqual({
      eventTypes: "a.b,c.d",
      actorType: "ai",
      aggregateType: "patient",
      from: "2026-01-01T00:00:00Z",
      text: "x y",
      afterSeq: "41",
      direction: "backward",
      limit: "50",
      cursor: "abc",
    });
    expect(header(calls[0]!, "x-user-id")).toBe("olivia.owner");
  });

  it("reads each endpoint's list from the layer's response types", async () => {
    const { c, calls } = client((url) => {
      if (url.includes("/aggregates/recent")) return json({ items: [{ aggregateId: "r" }], nextCursor: null });
      if (url.includes("/events?") || url.endsWith("/events")) return json({ items: [], nextCursor: null });
      if (url.includes("/aggregates")) return json({ items: [{ aggregateId: "a" }], nextCursor: "n" });
      if (url.includes("/activity")) return json({ days: [{ day: "2026-01-01" }] });
      if (url.includes("/registry")) return json({ eventTypes: [{ eventType: "t" }] });
      if (url.includes("/directory")) return json({ practices: [{ practiceId: "d" }] });
      if (url.includes("/members")) return json({ members: [{ userId: "m", role: "viewer" }], removed: [] });
      if (url.endsWith("/v1/users")) return json({ users: ["olivia.owner", "u"] });
      if (url.includes("/projectors")) return json({ projectors: [{ projectorName: "x" }] });
      return json({});
    });
    expect(await c.recentAggregates("p", { aggregateType: "patient", limit: 10 })).toEqual({ items: [{ aggregateId: "r" }], nextCursor: null });
    expect(await c.aggregates("p", { aggregateType: null, idPrefix: "ab" })).toEqual({ items: [{ aggregateId: "a" }], nextCursor: "n" });
    expect(await c.dailyActivity("p", { fromDay: "2026-01-01", toDay: null })).toEqual([{ day: "2026-01-01" }]);
    expect(await c.registry()).toEqual([{ eventType: "t" }]);
    expect(await c.practiceDirectory()).toEqual([{ practiceId: "d" }]);
    expect(await c.aggregateEvents("p", "patient", "x 1", { limit: 100 })).toEqual({ items: [], nextCursor: null });
    expect(await c.members("p 1")).toEqual({ members: [{ userId: "m", role: "viewer" }], removed: [] });
    expect(await c.suggestedIdentities()).toEqual(["olivia.owner", "u"]);
    expect(await c.projectorStatus(null)).toEqual([{ projectorName: "x" }]);
    expect(calls.map((k) => k.url)).toEqual([
      "http://api/v1/practices/p/aggregates/recent?aggregateType=patient&limit=10",
      "http://api/v1/practices/p/aggregates?idPrefix=ab",
      "http://api/v1/practices/p/activity?fromDay=2026-01-01",
      "http://api/v1/registry",
      "http://api/v1/directory/practices",
      "http://api/v1/practices/p/aggregates/patient/x%201/events?limit=100",
      "http://api/v1/practices/p%201/members",
      "http://api/v1/users",
      "http://api/v1/projectors",
    ]);
  });

  it("posts appends as JSON and treats 204 as done", async () => {
    const { c, calls } = client((url) => (url.endsWith("/reset") ? new Response(null, { status: 204 }) : json({ events: [{ seq: 1 }] }, 201)));
    expect(await c.appendBatch([{ practiceId: "p", aggregateType: "t", aggregateId: "a", eventType: "t.x", payload: {}, actorType: "human" }])).toEqual([{ seq: 1 }]);
    expect(calls[0]!.init?.method).toBe("POST");
    expect(header(calls[0]!, "content-type")).toBe("application/json");
    expect(JSON.parse(String(calls[0]!.init?.body))).toHaveProperty("events");
    await expect(c.resetProjector("p", "aggregate_index")).resolves.toBeUndefined();
    expect(calls[1]!.url).toBe("http://api/v1/practices/p/projectors/aggregate_index/reset");
  });

  it("suggests nobody before an identity is chosen, without asking the server", async () => {
    const { c, calls } = client(() => json({ users: ["x"] }), null);
    expect(await c.suggestedIdentities()).toEqual([]);
    expect(calls).toHaveLength(0);
  });

  it("sends no x-user-id before an identity is chosen", async () => {
    const { c, calls } = client(() => json({ practices: [] }), null);
    await c.practices();
    expect(header(calls[0]!, "x-user-id")).toBeUndefined();
    expect(await c.identity()).toBeNull();
  });
});

describe("HTTP client errors", () => {
  it("passes the engine's error through", async () => {
    const body = { error: { code: "practice_not_found", message: "no access", details: [{ path: "/x", message: "m" }] } };
    const { c } = client(() => json(body, 403));
    await expect(c.practices()).rejects.toEqual(body.error);
  });
  it("maps a network failure to unavailable, naming the server", async () => {
    const { c } = client(() => {
      throw new TypeError("Failed to fetch");
    });
    await expect(c.practices()).rejects.toMatchObject({
      code: "unavailable",
      message: "The Chronicle server at http://api cannot be reached: Failed to fetch",
      details: [],
    });
  });
  it("maps a non-JSON error body to a CommandError", async () => {
    const e = await errorFromResponse(new Response("<html><h1>Bad Gateway</h1></html>", { status: 502, statusText: "Bad Gateway" }));
    expect(e).toEqual({ code: "unavailable", message: "The server answered 502 Bad Gateway: Bad Gateway", details: [] });
    const e2 = await errorFromResponse(new Response("nope", { status: 418 }));
    expect(e2.code).toBe("internal");
    const e404 = await errorFromResponse(new Response("nope", { status: 404 }));
    expect(e404.code).toBe("not_found");
    const e3 = await errorFromResponse(new Response(JSON.stringify({ error: { code: "invalid" } }), { status: 400 }));
    expect(e3).toEqual({ code: "invalid", message: "HTTP 400", details: [] });
  });
  it("rejects a 200 that is not JSON with a CommandError", async () => {
    const { c } = client(() => new Response("<html>", { status: 200 }));
    await expect(c.practices()).rejects.toMatchObject({ code: "unavailable" });
  });
});

function sseResponse(chunks: string[]) {
  const enc = new TextEncoder();
  return new Response(
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (const c of chunks) controller.enqueue(enc.encode(c));
        controller.close();
      },
    }),
    { status: 200, headers: { "content-type": "text/event-stream" } },
  );
}

describe("HTTP client live streams", () => {
  it("reports appended events across chunk boundaries and resumes after the last id", async () => {
    let n = 0;
    const { c, calls } = client(() =>
      n++ === 0 ? sseResponse(['id: 5\nevent: ev', 'ent\ndata: {"seq":5}\n', '\nid: 6\nevent: event\ndata: {"seq":6}\n\n']) : sseResponse([]),
    );
    const got: Appended[] = [];
    const stop = c.onAppended("p", (u) => got.push(u));
    await vi.waitFor(() => expect(calls.length).toBeGreaterThanOrEqual(2));
    stop();
    expect(got).toEqual([
      { practiceId: "p", headSeq: 5 },
      { practiceId: "p", headSeq: 6 },
    ]);
    expect(calls[0]!.url).toBe("http://api/v1/practices/p/live");
    expect(calls[1]!.url).toBe("http://api/v1/practices/p/live?after=6");
    expect(header(calls[0]!, "x-user-id")).toBe("olivia.owner");
  });

  it("reports the server's checkpointMoved events, not status snapshots", async () => {
    const moved = (name: string) => `event: checkpointMoved\ndata: ${JSON.stringify({ practiceId: "p", projectorName: name })}\n\n`;
    const status = `event: status\ndata: ${JSON.stringify({ projectors: [] })}\n\n`;
    let n = 0;
    const { c, calls } = client(() => (n++ === 0 ? sseResponse([status, moved("a"), moved("b"), status, moved("a")]) : sseResponse([])));
    const got: CheckpointMoved[] = [];
    const stop = c.onCheckpointMoved("p", (u) => got.push(u));
    await vi.waitFor(() => expect(calls.length).toBeGreaterThanOrEqual(2));
    stop();
    expect(got.map((u) => u.projectorName)).toEqual(["a", "b", "a"]);
    expect(calls[0]!.url).toBe("http://api/v1/practices/p/projectors/live");
  });
});

describe("HTTP client preferences", () => {
  it("keeps identity, theme and recent practices", async () => {
    const { c } = client(() => json({}), null);
    await c.setIdentity("adam.admin");
    expect(await c.identity()).toBe("adam.admin");
    expect(await c.theme()).toBe("system");
    await c.setTheme("dark");
    expect(await c.theme()).toBe("dark");
    for (const p of ["a", "b", "a", "c"]) await c.notePracticeOpened(p);
    expect(await c.recentPractices()).toEqual(["c", "a", "b"]);
  });
});

describe("HTTP client exports and checks", () => {
  const manifest = {
    kind: "chronicle-export",
    version: 1,
    exportId: "0190-x",
    practiceId: "p/1",
    filter: { eventTypes: [] },
    exportedBy: "olivia.owner",
    exportedAt: "2026-11-30T08:00:00Z",
    eventCount: 2,
    firstSeq: 1,
    lastSeq: 2,
    headSeq: 2,
    headHash: "ab".repeat(32),
    chainForms: [2],
    digest: "sha256:cd",
  };
  const encoded = btoa(JSON.stringify(manifest)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const exportResponse = (body: string, name: string) =>
    new Response(body, {
      headers: {
        "content-type": "text/csv",
        "content-disposition": `attachment; filename="${name}"`,
        "x-chronicle-manifest": encoded,
      },
    });

  function exporting(respond: Parameters<typeof stub>[0]) {
    const s = stub(respond);
    const downloads: { name: string; file: Blob }[] = [];
    const c = createHttpClient({
      baseUrl: "http://api",
      fetch: s.fetch,
      storage: null,
      download: (file, name) => downloads.push({ name, file }),
    });
    void c.setIdentity("olivia.owner");
    return { c, calls: s.calls, downloads };
  }

  it("posts the request, downloads the body under the server's name, and offers a CSV's manifest beside it", async () => {
    const { c, calls, downloads } = exporting(() => exportResponse("seq,id\n1,a\n2,b\n", "chronicle-p_1-0190-x.csv"));
    const progress: number[] = [];
    const result = await c.exportTimeline(
      "p/1",
      { format: "csv", filter: { eventTypes: ["patient.created"] }, csvBom: true },
      { suggestedName: "fallback.csv", signal: new AbortController().signal, onProgress: (p) => progress.push(p.done) },
    );
    expect(calls[0]!.url).toBe("http://api/v1/practices/p%2F1/exports");
    expect(calls[0]!.init?.method).toBe("POST");
    expect(JSON.parse(String(calls[0]!.init?.body))).toEqual({ format: "csv", filter: { eventTypes: ["patient.created"] }, csvBom: true });
    expect(header(calls[0]!, "x-user-id")).toBe("olivia.owner");
    expect(result?.manifest).toEqual(manifest);
    expect([result?.fileName, result?.savedTo, result?.manifestFile?.name]).toEqual([
      "chronicle-p_1-0190-x.csv",
      null,
      "chronicle-p_1-0190-x.csv.manifest.json",
    ]);
    expect(downloads.map((d) => d.name)).toEqual(["chronicle-p_1-0190-x.csv"]);
    result?.manifestFile?.save();
    expect(downloads.map((d) => d.name)).toEqual(["chronicle-p_1-0190-x.csv", "chronicle-p_1-0190-x.csv.manifest.json"]);
    expect(await downloads[0]!.file.text()).toBe("seq,id\n1,a\n2,b\n");
    expect(JSON.parse(await downloads[1]!.file.text())).toEqual(manifest);
    expect(progress.at(-1)).toBe(15);
  });

  it("refuses an answer without its manifest, and passes the server's error on", async () => {
    const { c, downloads } = exporting(() => new Response("{}", { headers: { "content-disposition": 'attachment; filename="x.ndjson"' } }));
    const options = { suggestedName: "x.ndjson", signal: new AbortController().signal, onProgress: () => {} };
    await expect(c.exportTimeline("p", { format: "ndjson" }, options)).rejects.toMatchObject({ code: "unavailable" });
    expect(downloads).toEqual([]);
    const refused = exporting(() => json({ error: { code: "practice_not_found", message: "no", details: [] } }, 404));
    await expect(refused.c.exportTimeline("p", {}, options)).rejects.toMatchObject({ code: "practice_not_found" });
  });

  it("uploads a file to the check and asks verify about an anchor", async () => {
    const { c, calls } = client((url) => {
      if (url.includes("/exports/check")) return json({ intact: true, eventsChecked: 2 });
      if (url.includes("/head")) return json({ practiceId: "p", seq: 9, hash: "h", at: null });
      return json({ practiceId: "p", eventsChecked: 9, anchor: { held: true } });
    });
    const file = new Blob(['{"manifest":{}}\n']);
    expect(await c.checkExport({ kind: "upload", file, name: "x.ndjson" })).toEqual({ intact: true, eventsChecked: 2 });
    expect(calls[0]!.url).toBe("http://api/v1/exports/check");
    expect(calls[0]!.init?.body).toBe(file);
    expect(header(calls[0]!, "content-type")).toBe("application/octet-stream");
    await c.verify("p", { againstHash: "ab", againstSeq: 4 });
    expect(calls[1]!.url).toBe("http://api/v1/practices/p/verify?againstHash=ab&againstSeq=4");
    await c.verify("p");
    expect(calls[2]!.url).toBe("http://api/v1/practices/p/verify");
    expect((await c.chainHead("p")).seq).toBe(9);
    await expect(c.checkExport({ kind: "path", path: "/tmp/x.ndjson" })).rejects.toMatchObject({ code: "invalid" });
  });
});

describe("HTTP client: dry runs and generation", () => {
  it("previews an append with ?dryRun=true", async () => {
    const { c, calls } = client(() => json({ seq: 8, version: 1 }));
    const event = {
      practiceId: "p1",
      aggregateType: "patient",
      aggregateId: "a",
      eventType: "patient.created",
      payload: {},
      actorType: "human" as const,
    };
    expect(await c.dryRun(event)).toEqual({ seq: 8, version: 1 });
    expect(calls[0]!.url).toBe("http://api/v1/events/append?dryRun=true");
    expect(calls[0]!.init?.method).toBe("POST");
    expect(JSON.parse(String(calls[0]!.init?.body))).toEqual(event);
  });

  it("generates in chunks of 1,000, each with the next seed, adding up the counts", async () => {
    const progress: number[] = [];
    const { c, calls } = client((_url, init) => {
      const asked = JSON.parse(String(init?.body)) as { count: number; seed: number };
      return json({ practiceId: "p1", written: asked.count, seed: asked.seed, counts: [{ eventType: "patient.created", count: asked.count }], canceled: false }, 201);
    });
    const run = c.generateEvents("p1", { eventTypes: ["patient.created"], count: 2500, seed: 7 }, (p) => progress.push(p.written));
    const done = await run.done;
    expect(calls.map((call) => JSON.parse(String(call.init?.body)) as unknown)).toEqual([
      { eventTypes: ["patient.created"], count: 1000, seed: 7 },
      { eventTypes: ["patient.created"], count: 1000, seed: 8 },
      { eventTypes: ["patient.created"], count: 500, seed: 9 },
    ]);
    expect(calls[0]!.url).toBe("http://api/v1/practices/p1/generate");
    expect(progress).toEqual([1000, 2000, 2500]);
    expect(done).toEqual({ practiceId: "p1", written: 2500, seed: 7, counts: [{ eventType: "patient.created", count: 2500 }], canceled: false });
  });

  it("stops between chunks when canceled, and says so", async () => {
    let cancel = () => {};
    const { c, calls } = client(async (_url, init) => {
      const asked = JSON.parse(String(init?.body)) as { count: number; seed: number | null };
      await Promise.resolve(); // the person presses Cancel while the first chunk is on its way
      cancel();
      return json({ practiceId: "p1", written: asked.count, seed: asked.seed ?? 99, counts: [], canceled: false }, 201);
    });
    const run = c.generateEvents("p1", { eventTypes: [], count: 5000, seed: null }, () => {});
    cancel = run.cancel;
    const done = await run.done;
    expect(calls).toHaveLength(1);
    expect(done.written).toBe(1000);
    expect(done.canceled).toBe(true);
    expect(done.seed).toBe(99);
  });

  it("rejects with the engine's error and writes no further chunk", async () => {
    const { c, calls } = client(() => json({ error: { code: "forbidden", message: "not allowed: a viewer may read but not append", details: [] } }, 403));
    await expect(c.generateEvents("p1", { eventTypes: [], count: 3000, seed: 1 }, () => {}).done).rejects.toMatchObject({ code: "forbidden" });
    expect(calls).toHaveLength(1);
  });
});
