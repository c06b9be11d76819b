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
    notePracticeOpened: (practiceId) =>
      update((s) => ({
        ...s,
        recentPractices: [practiceId, ...(s.recentPractices ?? []).filter((p) => p !== practiceId)].slice(0, 10),
      })),
    practices: () => unwrap(commands.listPractices()),
    practiceDirectory: () => unwrap(commands.practiceDirectory()),
    members: (practiceId) => unwrap(commands.practiceMembers(practiceId)),
    timeline: (practiceId, filter, direction, page) => unwrap(commands.timeline(practiceId, filter, direction, page)),
    event: (practiceId, eventId) => unwrap(commands.event(practiceId, eventId)),
    aggregates: (practiceId, filter, page) => unwrap(commands.aggregates(practiceId, filter, page)),
    recentAggregates: (practiceId, aggregateType, page) =>
      unwrap(commands.recentAggregates(practiceId, aggregateType, page)),
    aggregateEvents: (practiceId, aggregateType, aggregateId, page) =>
      unwrap(commands.aggregateEvents(practiceId, aggregateType, aggregateId, page)),
    eventsByType: (practiceId, eventType, page) => unwrap(commands.eventsByType(practiceId, eventType, page)),
    dailyActivity: (practiceId, fromDay, toDay) => unwrap(commands.dailyActivity(practiceId, fromDay, toDay)),
    registry: () => unwrap(commands.registryList()),
    projectorStatus: (practiceId) => unwrap(commands.projectorStatus(practiceId)),
    resetProjector: async (practiceId, name) => {
      await unwrap(commands.projectorReset(practiceId, name));
    },
    retryProjector: async (practiceId, name) => {
      await unwrap(commands.projectorRetry(practiceId, name));
    },
    append: (event) => unwrap(commands.append(event)),
    appendBatch: (list) => unwrap(commands.appendBatch(list)),
    desktop,
    onAppended: (practiceId, callback) =>
      subscription(
        events.eventsAppended.listen((e) => {
          if (e.payload.practiceId === practiceId) callback(e.payload);
        }),
      ),
    onCheckpointMoved: (practiceId, callback) =>
      subscription(
        events.checkpointMoved.listen((e) => {
          if (e.payload.practiceId === practiceId) callback(e.payload);
        }),
      ),
  };
}
