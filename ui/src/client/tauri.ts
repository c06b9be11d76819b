// The desktop window's client: the typed Tauri commands and events of ../bindings.
import { commands, events } from "../bindings";
import type { Settings } from "../bindings";
import { unwrap } from "../result";
import type { ChronicleClient, DesktopControls, Unsubscribe } from "./types";

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
    members: async (practiceId) => (await unwrap(commands.practiceMembers(practiceId))).members,
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
    append: (event) => unwrap(commands.append(event)),
    appendBatch: async (list) => (await unwrap(commands.appendBatch({ events: list }))).events,
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
