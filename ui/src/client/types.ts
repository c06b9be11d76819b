// The one data-access interface of the UI. Two implementations: `tauri.ts` (the desktop
// window, over the typed commands in ../bindings.ts) and `http.ts` (the web console served by
// `chronicle serve`, over the HTTP API in docs/http-api.md). Screens only ever see this.
import type {
  ActivityQuery,
  AggregateEventsQuery,
  AggregatesQuery,
  AggregateSummary,
  Appended,
  Capabilities,
  ChainHead,
  ChainReport,
  CheckpointMoved,
  DailyCount,
  ErrorCode,
  Event,
  EventType,
  ExportCheck,
  ExportFormat,
  ExportManifest,
  ExportRequest,
  GeneratedEvents,
  GenerateProgress,
  GenerateRequest,
  IndexedAggregate,
  Member,
  MemberList,
  NewEvent,
  Page,
  PageQuery,
  PracticeListing,
  PracticeSummary,
  ProjectorStatus,
  RecentAggregatesQuery,
  RemovedMember,
  SeedReport,
  SkipRequest,
  SkippedEvent,
  StoreInfo,
  Theme,
  TimelineQuery,
  VerifyQuery,
  WireError,
} from "../bindings";

export type {
  ActivityQuery,
  AggregateEventsQuery,
  AggregatesQuery,
  AggregateSummary,
  Appended,
  Capabilities,
  ChainHead,
  ChainReport,
  CheckpointMoved,
  DailyCount,
  ErrorCode,
  Event,
  EventType,
  ExportCheck,
  ExportFormat,
  ExportManifest,
  ExportRequest,
  GeneratedEvents,
  GenerateProgress,
  GenerateRequest,
  IndexedAggregate,
  Member,
  MemberList,
  NewEvent,
  Page,
  PageQuery,
  PracticeListing,
  PracticeSummary,
  ProjectorStatus,
  RecentAggregatesQuery,
  RemovedMember,
  SeedReport,
  SkipRequest,
  SkippedEvent,
  StoreInfo,
  Theme,
  TimelineQuery,
  VerifyQuery,
};

/** Every failure a client call rejects with: the layer's one wire error, from either transport. */
export type CommandError = WireError;
/** A timeline's filters: the layer's timeline query without its paging and direction. */
export type TimelineFilter = Omit<TimelineQuery, "direction" | "limit" | "cursor">;
/** Stops a subscription. */
export type Unsubscribe = () => void;

/** A generation under way: its outcome, and a way to stop it before its next batch. */
export type GenerateRun = {
  done: Promise<GeneratedEvents>;
  cancel: () => void;
};

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
  /** Puts a practice first among the recent ones (desktop: the layer's rule in Rust). */
  notePracticeOpened(practiceId: string): Promise<void>;

  /** Practices the identity may read: role, capabilities, event count, last activity, chain head. */
  practices(): Promise<PracticeSummary[]>;
  /** One practice: the identity's role and capabilities there. */
  practice(practiceId: string): Promise<PracticeSummary>;
  /** Practices the identity may read, with name (practice directory read model). */
  practiceDirectory(): Promise<PracticeListing[]>;
  /** A practice's members (role, who gave it, and name and email once the user directory has
   * them) and its former members (who removed them, and why). */
  members(practiceId: string): Promise<MemberList>;
  /** A practice's events, filtered, a page in either direction. */
  timeline(practiceId: string, query: TimelineQuery): Promise<Page<Event>>;
  /** One event by id. */
  event(practiceId: string, eventId: string): Promise<Event>;
  /** Aggregates by type then id (filter by type, id prefix). */
  aggregates(practiceId: string, query: AggregatesQuery): Promise<Page<AggregateSummary>>;
  /** Aggregates, most recently active first (aggregate index read model). */
  recentAggregates(practiceId: string, query: RecentAggregatesQuery): Promise<Page<IndexedAggregate>>;
  /** One aggregate's events in version order. */
  aggregateEvents(
    practiceId: string,
    aggregateType: string,
    aggregateId: string,
    query: AggregateEventsQuery,
  ): Promise<Page<Event>>;
  /** Events of one type, oldest first. */
  eventsByType(practiceId: string, eventType: string, query: PageQuery): Promise<Page<Event>>;
  /** Events per UTC day, event type and actor type; days are `YYYY-MM-DD`, inclusive. */
  dailyActivity(practiceId: string, query: ActivityQuery): Promise<DailyCount[]>;
  /** Every registered event type with its JSON Schema. */
  registry(): Promise<EventType[]>;
  /** Each projector's checkpoint, head, lag, rate, state and whether a retry is possible (one
   * practice, or all visible, in one call). */
  projectorStatus(practiceId: string | null): Promise<ProjectorStatus[]>;
  /** Rebuilds a projector's read model from the first event (owner or admin). */
  resetProjector(practiceId: string, projectorName: string): Promise<void>;
  /** Resumes a failed or stopped projector at the event it stopped at (owner or admin). */
  retryProjector(practiceId: string, projectorName: string): Promise<void>;
  /** Skips the event a failed projector keeps failing on (owner or admin); answers the
   * `projector.event_skipped` event that records it. */
  skipProjectorEvent(practiceId: string, projectorName: string, request: SkipRequest): Promise<Event>;
  /** Appends one event as the identity. */
  append(event: NewEvent): Promise<Event>;
  /** Appends events all or nothing, as the identity. */
  appendBatch(events: NewEvent[]): Promise<Event[]>;
  /** What `append` would store (seq, version, createdAt, hash), checked by the engine exactly
   * as the append; nothing is written. */
  dryRun(event: NewEvent): Promise<Event>;
  /** Generates events from the registry's schemas into a practice as the identity, through the
   * batch append; `onProgress` hears after each batch, `cancel` stops before the next. */
  generateEvents(
    practiceId: string,
    request: GenerateRequest,
    onProgress: (progress: GenerateProgress) => void,
  ): GenerateRun;

  /** Recomputes the practice's chain; with `againstHash` (and `againstSeq`), also whether the
   * store still holds the chain up to that head recorded earlier. */
  verify(practiceId: string, query?: VerifyQuery): Promise<ChainReport>;
  /** The practice's chain head (seq, hash, time): what to write down outside the store. */
  chainHead(practiceId: string): Promise<ChainHead>;
  /** Exports the practice (or the request's slice) to a file: desktop, where the user chooses
   * in the save dialog, written by the app with progress in events; web, a download of the
   * server's stream. Resolves null when the user dismissed the save dialog; rejects with the
   * error when it fails or `options.signal` cancels it (nothing is kept then). */
  exportTimeline(practiceId: string, request: ExportRequest, options: ExportOptions): Promise<ExportResult | null>;
  /** Checks an export file offline (nothing read from the store): desktop, a path; web, an
   * uploaded NDJSON or JSON file. */
  checkExport(file: ExportFile): Promise<ExportCheck>;

  /** Desktop only: the open store, first-run demo data, switching stores. */
  readonly desktop?: DesktopControls;

  /** Calls back whenever the practice has new events. */
  onAppended(practiceId: string, callback: (update: Appended) => void): Unsubscribe;
  /** Calls back whenever one of the practice's checkpoints changes. */
  onCheckpointMoved(practiceId: string, callback: (update: CheckpointMoved) => void): Unsubscribe;
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
  /** The open dialog for an export file to check; null when dismissed. */
  pickExportFile(): Promise<string | null>;
  /** Calls back with the paths of files dropped on the window. */
  onFilesDropped(callback: (paths: string[]) => void): Unsubscribe;
}

/** How far an export has got: events written (desktop) or bytes received (web). */
export type ExportProgressUpdate = {
  unit: "events" | "bytes";
  done: number;
  /** Known for events; a download's size is not known ahead. */
  total: number | null;
};

export type ExportOptions = {
  /** The file name offered (desktop: in the save dialog; web: when the server names none). */
  suggestedName: string;
  onProgress: (update: ExportProgressUpdate) => void;
  /** Aborting it cancels the export. */
  signal: AbortSignal;
};

/** A finished export. */
export type ExportResult = {
  manifest: ExportManifest;
  /** The file's name. */
  fileName: string;
  /** Where the desktop app wrote it (the web console hands it to the browser's downloads). */
  savedTo: string | null;
  /** A CSV's manifest still to save beside it (web: browsers let a page start a second
   * download only from a click); null when there is none or it is already written. */
  manifestFile: { name: string; save: () => void } | null;
};

/** An export file to check: a path (desktop) or the file itself (web). */
export type ExportFile = { kind: "path"; path: string } | { kind: "upload"; file: Blob; name: string };
