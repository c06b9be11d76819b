// The one data-access interface of the UI. Two implementations: `tauri.ts` (the desktop
// window, over the typed commands in ../bindings.ts) and `http.ts` (the web console served by
// `chronicle serve`, over the HTTP API in docs/http-api.md). Screens only ever see this.
import type {
  AggregateFilter,
  AggregateSummary,
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
  SeedReport,
  StoreInfo,
  Theme,
  TimelineFilter,
} from "../bindings";

export type {
  AggregateFilter,
  AggregateSummary,
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
  SeedReport,
  StoreInfo,
  Theme,
  TimelineFilter,
};

/** A practice grew: its last seq is now `headSeq`. */
export type AppendedUpdate = { practiceId: string; headSeq: number };
/** A projector checkpoint of a practice changed; re-read its status. */
export type CheckpointUpdate = { practiceId: string; projectorName: string };
/** Stops a subscription. */
export type Unsubscribe = () => void;

/**
 * Every method rejects with a `CommandError` (`{code, message, details}`), never with
 * anything else: transport failures become `{code: "unavailable", ...}`.
 */
export interface ChronicleClient {
  readonly transport: "tauri" | "http";

  /** The user id the UI views as, or null before one is chosen. */
  identity(): Promise<string | null>;
  /** Changes who the UI views as (null: nobody). */
  setIdentity(identity: string | null): Promise<void>;
  /** User ids worth offering in the picker: desktop, every member of the store; web, the
   * people the current identity shares a practice with (none before one is chosen). */
  suggestedIdentities(): Promise<string[]>;
  /** Light, dark or the system's (desktop: settings; web: this browser). */
  theme(): Promise<Theme>;
  setTheme(theme: Theme): Promise<void>;
  /** Practice ids opened recently, newest first (at most 10). */
  recentPractices(): Promise<string[]>;
  /** Puts a practice first among the recent ones. */
  notePracticeOpened(practiceId: string): Promise<void>;

  /** Practices the identity may read: role, event count, last activity, chain head. */
  practices(): Promise<PracticeSummary[]>;
  /** Practices the identity may read, with name (practice directory read model). */
  practiceDirectory(): Promise<PracticeListing[]>;
  /** A practice's members: role, and name and email once the user directory has them. */
  members(practiceId: string): Promise<Member[]>;
  /** A practice's events, filtered, a page in either direction. */
  timeline(
    practiceId: string,
    filter: TimelineFilter,
    direction: Direction,
    page: PageRequest,
  ): Promise<Page<Event>>;
  /** One event by id. */
  event(practiceId: string, eventId: string): Promise<Event>;
  /** Aggregates by type then id (filter by type, id prefix). */
  aggregates(practiceId: string, filter: AggregateFilter, page: PageRequest): Promise<Page<AggregateSummary>>;
  /** Aggregates, most recently active first (aggregate index read model). */
  recentAggregates(
    practiceId: string,
    aggregateType: string | null,
    page: PageRequest,
  ): Promise<Page<IndexedAggregate>>;
  /** One aggregate's events in version order. */
  aggregateEvents(
    practiceId: string,
    aggregateType: string,
    aggregateId: string,
    page: PageRequest,
  ): Promise<Page<Event>>;
  /** Events of one type, oldest first. */
  eventsByType(practiceId: string, eventType: string, page: PageRequest): Promise<Page<Event>>;
  /** Events per UTC day, event type and actor type; days are `YYYY-MM-DD`, inclusive. */
  dailyActivity(practiceId: string, fromDay: string | null, toDay: string | null): Promise<DailyCount[]>;
  /** Every registered event type with its JSON Schema. */
  registry(): Promise<EventType[]>;
  /** Each projector's checkpoint, head, lag, rate and state (one practice, or all visible). */
  projectorStatus(practiceId: string | null): Promise<ProjectorStatus[]>;
  /** Rebuilds a projector's read model from the first event (owner or admin). */
  resetProjector(practiceId: string, projectorName: string): Promise<void>;
  /** Resumes a failed projector at the event it failed on (owner or admin). */
  retryProjector(practiceId: string, projectorName: string): Promise<void>;
  /** Appends one event as the identity. */
  append(event: NewEvent): Promise<Event>;
  /** Appends events all or nothing, as the identity. */
  appendBatch(events: NewEvent[]): Promise<Event[]>;

  /** Desktop only: the open store, first-run demo data, switching stores. */
  readonly desktop?: DesktopControls;

  /** Calls back whenever the practice has new events. */
  onAppended(practiceId: string, callback: (update: AppendedUpdate) => void): Unsubscribe;
  /** Calls back whenever one of the practice's checkpoints changes. */
  onCheckpointMoved(practiceId: string, callback: (update: CheckpointUpdate) => void): Unsubscribe;
}

/** What only the desktop app can do: it owns the store. */
export interface DesktopControls {
  /** Backend, location, whether it is empty (offer demo data), start-up problems. */
  storeInfo(): Promise<StoreInfo>;
  /** Fills an empty store with demo data (`store_not_empty` otherwise). */
  seedDemo(): Promise<SeedReport>;
  /** Opens another store (null: the embedded one); the old stays open if this fails. */
  setStoreLocation(location: string | null, password: string | null): Promise<void>;
  /** Calls back when the app switched stores: every screen reloads. */
  onStoreChanged(callback: () => void): Unsubscribe;
}
