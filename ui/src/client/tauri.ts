// The desktop window's client: the typed Tauri commands and events of ../bindings.
import { getCurrentWebview } from "@tauri-apps/api/webview";
import { open, save } from "@tauri-apps/plugin-dialog";
import { commands, events } from "../bindings";
import type { Settings } from "../bindings";
import { EXPORT_FORMATS, extensionOf } from "../lib/exports";
import { unwrap } from "../result";
import type { ChronicleClient, DesktopControls, ExportOptions, ExportResult, Unsubscribe } from "./types";
import type { ExportRequest } from "./types";

/** Turns a listen() promise into a synchronous unsubscribe. */
function subscription(listening: Promise<() => void>): Unsubscribe {
  let stopped = false;
  let unlisten: (() => void) | null = null;
  void listening.then(
    (u) => {
      if (stopped) u();
      else unlisten = u;
    },
    () => {},
  );
  return () => {
    stopped = true;
    unlisten?.();
  };
}

export function createTauriClient(): ChronicleClient {
  const settings = () => unwrap(commands.settingsGet());
  const update = async (change: (s: Settings) => Settings) => {
    await unwrap(commands.settingsSet(change(await settings()), null));
  };

  const desktop: DesktopControls = {
    storeInfo: () => unwrap(commands.storeInfo()),
    seedDemo: () => unwrap(commands.seedDemo()),
    setStoreLocation: async (location, password) => {
      const current = await settings();
      await unwrap(commands.settingsSet({ ...current, storeLocation: location }, password));
    },
    onStoreChanged: (callback) => subscription(events.storeChanged.listen(() => callback())),
    pickExportFile: async () => {
      const picked = await open({
        title: "Check an export file",
        multiple: false,
        directory: false,
        filters: [{ name: "Chronicle exports", extensions: ["ndjson", "json", "csv"] }],
      });
      return typeof picked === "string" ? picked : null;
    },
    onFilesDropped: (callback) =>
      subscription(
        getCurrentWebview().onDragDropEvent((e) => {
          if (e.payload.type === "drop") callback(e.payload.paths);
        }),
      ),
  };

  /** Asks where to save, then has the app write the export there, following its progress
   * events and cancelling it when the signal aborts. */
  const exportTimeline = async (practiceId: string, request: ExportRequest, options: ExportOptions): Promise<ExportResult | null> => {
    const format = request.format ?? "ndjson";
    const label = EXPORT_FORMATS.find((f) => f.format === format)?.label ?? format;
    const path = await save({
      title: "Save the export",
      defaultPath: options.suggestedName,
      filters: [{ name: label, extensions: [extensionOf(format)] }],
    });
    if (path === null) return null;
    let exportId: string | null = null;
    const cancel = () => {
      if (exportId !== null) void commands.exportCancel(exportId);
    };
    // Listening first, so the first progress event (the export's id) is not missed.
    const unlisten = await events.exportProgress.listen((e) => {
      if (e.payload.path !== path) return;
      exportId = e.payload.exportId;
      options.onProgress({ unit: "events", done: e.payload.written, total: e.payload.total });
      // A cancel asked for before the id was known takes effect now.
      if (options.signal.aborted) cancel();
    });
    options.signal.addEventListener("abort", cancel);
    try {
      const manifest = await unwrap(commands.exportPractice(practiceId, request, path));
      return { manifest, fileName: path.split(/[/\\]/).pop() ?? path, savedTo: path, manifestFile: null };
    } finally {
      unlisten();
      options.signal.removeEventListener("abort", cancel);
    }
  };

  return {
    transport: "tauri",
    identity: async () => (await settings()).identity ?? null,
    setIdentity: (identity) => update((s) => ({ ...s, identity })),
    suggestedIdentities: async () => (await desktop.storeInfo()).suggestedIdentities,
    theme: async () => (await settings()).theme ?? "system",
    setTheme: (theme) => update((s) => ({ ...s, theme })),
    recentPractices: async () => (await settings()).recentPractices ?? [],
    notePracticeOpened: async (practiceId) => {
      await unwrap(commands.practiceOpened(practiceId));
    },
    practices: async () => (await unwrap(commands.practices())).practices,
    practice: (practiceId) => unwrap(commands.practice(practiceId)),
    practiceDirectory: async () => (await unwrap(commands.practiceDirectory())).practices,
    members: (practiceId) => unwrap(commands.practiceMembers(practiceId)),
    timeline: (practiceId, query) => unwrap(commands.timeline(practiceId, query)),
    event: (practiceId, eventId) => unwrap(commands.event(practiceId, eventId)),
    aggregates: (practiceId, query) => unwrap(commands.aggregates(practiceId, query)),
    recentAggregates: (practiceId, query) => unwrap(commands.recentAggregates(practiceId, query)),
    aggregateEvents: (practiceId, aggregateType, aggregateId, query) =>
      unwrap(commands.aggregateEvents(practiceId, aggregateType, aggregateId, query)),
    eventsByType: (practiceId, eventType, query) => unwrap(commands.eventsByType(practiceId, eventType, query)),
    dailyActivity: async (practiceId, query) => (await unwrap(commands.dailyActivity(practiceId, query))).days,
    registry: async () => (await unwrap(commands.registryList())).eventTypes,
    projectorStatus: async (practiceId) => (await unwrap(commands.projectorStatus({ practiceId }))).projectors,
    resetProjector: async (practiceId, name) => {
      await unwrap(commands.projectorReset(practiceId, name));
    },
    retryProjector: async (practiceId, name) => {
      await unwrap(commands.projectorRetry(practiceId, name));
    },
    skipProjectorEvent: (practiceId, name, request) => unwrap(commands.projectorSkip(practiceId, name, request)),
    append: (event) => unwrap(commands.append(event)),
    appendBatch: async (list) => (await unwrap(commands.appendBatch({ events: list }))).events,
    verify: (practiceId, query) => unwrap(commands.verify(practiceId, query ?? null)),
    chainHead: (practiceId) => unwrap(commands.chainHead(practiceId)),
    exportTimeline,
    checkExport: async (file) => {
      if (file.kind !== "path")
        throw { code: "invalid", message: "The desktop app checks a file by its path: choose it or drop it on the window.", details: [] };
      return unwrap(commands.checkExportFile(file.path));
    },
    dryRun: (event) => unwrap(commands.appendDryRun(event)),
    generateEvents: (practiceId, request, onProgress) => {
      const stop = subscription(
        events.generateProgressEvent.listen((e) => {
          if (e.payload.practiceId === practiceId) onProgress(e.payload);
        }),
      );
      const done = unwrap(commands.generateEvents(practiceId, request)).finally(stop);
      return {
        done,
        cancel: () => {
          void commands.generateCancel();
        },
      };
    },
    desktop,
    onAppended: (practiceId, callback) =>
      subscription(
        events.eventsAppended.listen((e) => {
          if (e.payload.practiceId === practiceId) callback(e.payload);
        }),
      ),
    onCheckpointMoved: (practiceId, callback) =>
      subscription(
        events.checkpointMovedEvent.listen((e) => {
          if (e.payload.practiceId === practiceId) callback(e.payload);
        }),
      ),
  };
}
