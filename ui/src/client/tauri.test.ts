// The desktop client's export: the save dialog, the app's progress events for this file only,
// and a cancel that reaches the app even when asked before the export's id was known. The IPC
// is Tauri's own mock (@tauri-apps/api/mocks), with its event mocking.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ExportManifest, ExportProgress } from "../bindings";
import type { ExportProgressUpdate } from "./types";

type Call = { cmd: string; args: Record<string, unknown> | undefined };

const manifest = { exportId: "0190-x", practiceId: "p-1", eventCount: 2, digest: "sha256:cd" } as ExportManifest;

beforeAll(() => {
  // The mocks install themselves on `window`, which Node does not have.
  (globalThis as { window?: unknown }).window ??= globalThis;
});

afterEach(async () => {
  const { clearMocks } = await import("@tauri-apps/api/mocks");
  clearMocks();
});

/** A desktop client whose app answers `answer(cmd, args)`; every call is recorded. */
async function desktop(answer: (call: Call) => unknown) {
  const { mockIPC } = await import("@tauri-apps/api/mocks");
  const calls: Call[] = [];
  mockIPC(
    (cmd, args) => {
      const call = { cmd, args: args as Record<string, unknown> | undefined };
      calls.push(call);
      return answer(call);
    },
    { shouldMockEvents: true },
  );
  const { createTauriClient } = await import("./tauri");
  const { emit } = await import("@tauri-apps/api/event");
  const progress = (p: Partial<ExportProgress>) =>
    emit("export-progress", { exportId: "0190-x", practiceId: "p-1", path: "/home/u/x.ndjson", written: 0, total: 2, ...p });
  return { client: createTauriClient(), calls, progress };
}

describe("desktop exports", () => {
  it("saves where the user chose, following only this file's progress", async () => {
    const seen: ExportProgressUpdate[] = [];
    const { client, calls, progress } = await desktop(async ({ cmd }) => {
      if (cmd === "plugin:dialog|save") return "/home/u/x.ndjson";
      if (cmd === "export_practice") {
        await progress({ path: "/home/u/another.ndjson", exportId: "other", written: 5, total: 9 });
        await progress({ written: 0 });
        await progress({ written: 2 });
        return manifest;
      }
      return null;
    });
    const result = await client.exportTimeline(
      "p-1",
      { format: "ndjson", filter: { eventTypes: [] } },
      { suggestedName: "chronicle-p-1.ndjson", signal: new AbortController().signal, onProgress: (p) => seen.push(p) },
    );
    expect(result).toEqual({ manifest, fileName: "x.ndjson", savedTo: "/home/u/x.ndjson", manifestFile: null });
    expect(seen).toEqual([
      { unit: "events", done: 0, total: 2 },
      { unit: "events", done: 2, total: 2 },
    ]);
    const save = calls.find((c) => c.cmd === "plugin:dialog|save");
    expect(save?.args?.options).toMatchObject({ defaultPath: "chronicle-p-1.ndjson", filters: [{ name: "NDJSON", extensions: ["ndjson"] }] });
    expect(calls.find((c) => c.cmd === "export_practice")?.args).toEqual({
      practiceId: "p-1",
      request: { format: "ndjson", filter: { eventTypes: [] } },
      path: "/home/u/x.ndjson",
    });
    expect(calls.some((c) => c.cmd === "export_cancel")).toBe(false);
  });

  it("sends a cancel asked before the export's id was known once the first progress names it", async () => {
    const { client, calls, progress } = await desktop(async ({ cmd }) => {
      if (cmd === "plugin:dialog|save") return "/home/u/x.ndjson";
      if (cmd === "export_practice") {
        await progress({ written: 0 });
        throw { code: "conflict", message: "the export was cancelled after 0 of 2 events", details: [] };
      }
      return null;
    });
    const controller = new AbortController();
    controller.abort();
    await expect(
      client.exportTimeline("p-1", {}, { suggestedName: "x.ndjson", signal: controller.signal, onProgress: () => {} }),
    ).rejects.toMatchObject({ code: "conflict" });
    expect(calls.filter((c) => c.cmd === "export_cancel").map((c) => c.args)).toEqual([{ exportId: "0190-x" }]);
  });

  it("does nothing when the save dialog is dismissed", async () => {
    const { client, calls } = await desktop(({ cmd }) => (cmd === "plugin:dialog|save" ? null : manifest));
    const result = await client.exportTimeline("p-1", {}, { suggestedName: "x.ndjson", signal: new AbortController().signal, onProgress: () => {} });
    expect(result).toBeNull();
    expect(calls.map((c) => c.cmd)).toEqual(["plugin:dialog|save"]);
  });

  it("checks a file by path, and refuses an upload", async () => {
    const { client, calls } = await desktop(({ cmd }) => (cmd === "check_export_file" ? { intact: true } : null));
    expect(await client.checkExport({ kind: "path", path: "/home/u/x.csv" })).toEqual({ intact: true });
    expect(calls[0]).toEqual({ cmd: "check_export_file", args: { path: "/home/u/x.csv" } });
    await expect(client.checkExport({ kind: "upload", file: new Blob([]), name: "x.ndjson" })).rejects.toMatchObject({ code: "invalid" });
  });
});
