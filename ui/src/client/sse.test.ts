import { describe, expect, it } from "vitest";
import { readSse, SseParser } from "./sse";
import type { SseMessage } from "./sse";

const STREAM = 'id: 333\nevent: event\ndata: {"seq":333}\n\n: keep-alive\n\nid: 334\nevent: event\ndata: {"seq":334}\n\n';

describe("SseParser", () => {
  it("parses whole messages", () => {
    expect(new SseParser().push(STREAM)).toEqual([
      { event: "event", id: "333", data: '{"seq":333}' },
      { event: "event", id: "334", data: '{"seq":334}' },
    ]);
  });
  it("gives the same messages whatever the chunk boundaries", () => {
    const expected = new SseParser().push(STREAM);
    for (let size = 1; size <= 7; size++) {
      const parser = new SseParser();
      const out: SseMessage[] = [];
      for (let i = 0; i < STREAM.length; i += size) out.push(...parser.push(STREAM.slice(i, i + size)));
      expect(out).toEqual(expected);
    }
  });
  it("handles CRLF split between chunks, multi-line data, default event name and no-space values", () => {
    const parser = new SseParser();
    const out = [...parser.push("data:a\r"), ...parser.push("\ndata: b\r\n\r"), ...parser.push("\n")];
    expect(out).toEqual([{ event: "message", id: null, data: "a\nb" }]);
  });
  it("keeps the last id for later messages and drops events without data", () => {
    const out = new SseParser().push("id: 7\nevent: status\n\ndata: x\n\n");
    expect(out).toEqual([{ event: "message", id: "7", data: "x" }]);
  });
});

describe("readSse", () => {
  it("decodes UTF-8 split inside a character", async () => {
    const bytes = new TextEncoder().encode('event: event\ndata: {"name":"Zoë 🦷"}\n\n');
    const chunks = [bytes.slice(0, 27), bytes.slice(27, 31), bytes.slice(31)];
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const c of chunks) controller.enqueue(c);
        controller.close();
      },
    });
    const got: SseMessage[] = [];
    await readSse(body, (m) => got.push(m), new AbortController().signal);
    expect(got).toEqual([{ event: "event", id: null, data: '{"name":"Zoë 🦷"}' }]);
  });
});
