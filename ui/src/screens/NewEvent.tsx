// "New event": a form generated from the event type's JSON Schema (RJSF 6, validated in the
// browser as the engine validates), or raw JSON with the same checks. The engine stays the
// authority: its violations land on the fields they name, a refused append keeps the form, a
// concurrent append is shown as a conflict with the events that came in between, and
// "Preview" is the engine's dry run.
import { useMemo, useState } from "react";
import { useQuery } from "@tanstack/react-query";
// The Form itself, not the package index: the index also exports a test registry that imports
// the ajv8 validator, which this UI does not use (see lib/schema.ts).
import Form from "@rjsf/core/lib/components/Form.js";
import type { ErrorSchema, RJSFSchema, UiSchema } from "@rjsf/utils";
import { Link } from "wouter";
import type { ActorType } from "../bindings";
import { asCommandError, useClient, useData, useIdentity } from "../client/context";
import type { CommandError, Event, EventType, NewEvent as NewEventInput } from "../client/types";
import { JsonTree } from "../components/JsonTree";
import { ErrorView, Status } from "../ErrorView";
import { usePractices } from "../hooks";
import { checkPayload, errorSchemaFromViolations, formSchema, payloadValidator } from "../lib/schema";
import { localTime } from "../lib/format";
import { enc, useParams } from "../router";
import { onlyTheStoreAppends } from "./Registry";

type Payload = Record<string, unknown>;

/**
 * `#/p/PID/new?type=…&aggregate=…&template=EVENT_ID`: loads what the form starts from.
 * `#/new?type=…` (the registry's New event when no practice was opened) asks for the practice.
 */
export function NewEvent({ params }: { params: { pid?: string } }) {
  return params.pid === undefined ? <ChoosePractice /> : <NewEventIn pid={params.pid} />;
}

/** Which practice the event goes to: the identity's practices, the recent ones first. */
function ChoosePractice() {
  const identity = useIdentity();
  const practices = usePractices();
  const [query] = useParams();
  const type = query.get("type");
  // The practice's form starts from the same link: the type (and anything else it carries).
  const search = query.toString();
  const formIn = (practiceId: string) => `/p/${enc(practiceId)}/new${search ? `?${search}` : ""}`;
  return (
    <section className="screen" data-testid="new-event">
      <div className="screen-head">
        <h2>New event</h2>
        {type && <code data-testid="new-event-chosen-type">{type}</code>}
      </div>
      {identity === null && <p className="muted">Choose who to view as to see the practices that user may append to.</p>}
      <Status
        loading={practices.loading}
        error={practices.error}
        empty={practices.list !== undefined && practices.list.length === 0}
        emptyText={`${identity} is not a member of any practice.`}
      />
      {practices.list && practices.list.length > 0 && (
        <>
          <p>In which practice?</p>
          <ul data-testid="new-event-practices">
            {practices.list.map((p) => (
              <li key={p.practiceId}>
                <Link href={formIn(p.practiceId)} data-testid="new-event-practice" data-practice-id={p.practiceId}>
                  {p.name ?? p.practiceId}
                </Link>
                <span className="muted">
                  {" "}
                  {p.role ?? "system"}
                  {p.capabilities.append ? "" : " · may not append"}
                </span>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

function NewEventIn({ pid }: { pid: string }) {
  const [query] = useParams();
  const templateId = query.get("template");
  const registry = useData(["registry"], (c) => c.registry());
  const practice = useData(["practice", pid], (c) => c.practice(pid));
  const template = useData(["event", pid, templateId], (c) => c.event(pid, templateId!), templateId !== null);
  // A non-member sees the form too, disabled, with the engine's reason.
  const stranger = practice.error?.code === "practice_not_found";
  const ready = registry.data && (practice.data || stranger) && (templateId === null || template.data);
  return (
    <section className="screen" data-testid="new-event">
      <div className="screen-head">
        <h2>New event</h2>
        <Link href={`/p/${enc(pid)}/generate`} data-testid="open-generate">
          Generate events…
        </Link>
      </div>
      <Status
        loading={!ready && !registry.error && !practice.error && !template.error}
        error={registry.error ?? (stranger ? null : practice.error) ?? template.error ?? null}
      />
      {ready && (
        <NewEventForm
          // A new link (another type, aggregate or template) is a new form, not an edit of this one.
          key={[templateId, query.get("type"), query.get("aggregate"), query.get("aggregateType")].join("|")}
          pid={pid}
          // Types only the store appends (a projector skip, an export's record) have no form.
          types={registry.data!.filter((t) => t.appendedBy === null)}
          storeAppended={registry.data!.filter((t) => t.appendedBy !== null)}
          aggregateTypeHint={template.data ? null : query.get("aggregateType")}
          canAppend={practice.data?.capabilities.append ?? false}
          role={practice.data?.role ?? null}
          initialType={template.data?.eventType ?? query.get("type") ?? ""}
          initialAggregate={template.data?.aggregateId ?? query.get("aggregate") ?? ""}
          initialPayload={(template.data?.payload as Payload | undefined) ?? {}}
        />
      )}
    </section>
  );
}

type Outcome =
  | { kind: "appended"; event: Event }
  | { kind: "preview"; event: Event }
  | { kind: "refused"; error: CommandError }
  | { kind: "conflict"; error: CommandError; expected: number; since: Event[] };

function NewEventForm(props: {
  pid: string;
  types: EventType[];
  /** No form of their own; a link may still name one, and is told why. */
  storeAppended: EventType[];
  /** Opened from an aggregate: offer that aggregate type's event types. */
  aggregateTypeHint: string | null;
  canAppend: boolean;
  role: string | null;
  initialType: string;
  initialAggregate: string;
  initialPayload: Payload;
}) {
  const { pid, types } = props;
  const client = useClient();
  const identity = useIdentity();
  const [typeText, setTypeText] = useState(props.initialType);
  const eventType = types.find((t) => t.eventType === typeText) ?? null;
  const [aggregateId, setAggregateId] = useState(
    eventType?.aggregateType === "practice" ? pid : props.initialAggregate,
  );
  const [actorType, setActorType] = useState<ActorType>("human");
  const [actorId, setActorId] = useState(identity ?? "");
  const [payload, setPayload] = useState<Payload>(props.initialPayload);
  const [mode, setMode] = useState<"form" | "json">("form");
  const [rawText, setRawText] = useState("");
  const [rawProblem, setRawProblem] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [busy, setBusy] = useState(false);
  /** After an append (or "append after them"), the version the next append expects. */
  const [expectedOverride, setExpectedOverride] = useState<{ key: string; version: number } | null>(null);

  const schema = useMemo<RJSFSchema | null>(() => (eventType ? formSchema(eventType.schema) : null), [eventType]);
  // Required fields first: the registry's property order does not survive its JSON (sorted keys).
  const uiSchema = useMemo<UiSchema>(() => ({ "ui:order": [...((schema?.required as string[] | undefined) ?? []), "*"] }), [schema]);
  const aggregateType = eventType?.aggregateType ?? "";
  const streamKey = `${aggregateType}/${aggregateId}`;

  // The aggregate's version as it was when it was chosen in this form: never refreshed in the
  // background, so an append in between shows up as a conflict, not as a silent append.
  const opened = useQuery<number, CommandError>({
    queryKey: ["as", identity, "form-opened-version", pid, aggregateType, aggregateId],
    enabled: identity !== null && aggregateType !== "" && aggregateId.trim() !== "",
    staleTime: Infinity,
    gcTime: 0,
    refetchOnWindowFocus: false,
    refetchOnReconnect: false,
    retry: false,
    queryFn: async () => {
      try {
        // Ids sort by type, then id: an exact match comes first among the ids it prefixes.
        const page = await client.aggregates(pid, { aggregateType, idPrefix: aggregateId, limit: 1, cursor: null });
        return page.items.find((a) => a.aggregateId === aggregateId)?.version ?? 0;
      } catch (reason) {
        throw asCommandError(reason);
      }
    },
  });
  const expectedVersion = expectedOverride?.key === streamKey ? expectedOverride.version : (opened.data ?? null);

  const existing = useData(
    ["recent-aggregates", pid, aggregateType],
    (c) => c.recentAggregates(pid, { aggregateType, limit: 100, cursor: null }),
    aggregateType !== "",
  );
  // Why appending is not possible, in the engine's words: a dry run says it before any typing.
  const refusal = useData(
    ["append-refusal", pid, eventType?.eventType ?? ""],
    async (c) => {
      try {
        await c.dryRun(draft(pid, eventType?.eventType ?? "practice.updated", eventType?.aggregateType ?? "practice", pid, {}, "human", identity, null));
        return null;
      } catch (reason) {
        const error = asCommandError(reason);
        return error.code === "forbidden" || error.code === "practice_not_found" ? error : null;
      }
    },
    !props.canAppend,
  );
  const disabled = !props.canAppend || busy;

  const engineErrors = outcome?.kind === "refused" ? outcome.error.details : [];
  const { fields: extraErrors } = errorSchemaFromViolations(engineErrors);

  const currentPayload = (): Payload | null => {
    if (mode === "form") return payload;
    try {
      const parsed = JSON.parse(rawText) as unknown;
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        setRawProblem("The payload must be a JSON object.");
        return null;
      }
      return parsed as Payload;
    } catch (reason) {
      setRawProblem(`Not JSON: ${reason instanceof Error ? reason.message : String(reason)}`);
      return null;
    }
  };

  const send = async (dryRun: boolean) => {
    if (!eventType) return;
    const body = currentPayload();
    if (body === null) return;
    const event = draft(pid, eventType.eventType, aggregateType, aggregateId.trim(), body, actorType, actorId.trim() || null, expectedVersion);
    setBusy(true);
    try {
      if (dryRun) {
        setOutcome({ kind: "preview", event: await client.dryRun(event) });
      } else {
        const stored = await client.append(event);
        setExpectedOverride({ key: streamKey, version: stored.version });
        setOutcome({ kind: "appended", event: stored });
      }
    } catch (reason) {
      const error = asCommandError(reason);
      if (error.code === "version_conflict" && expectedVersion !== null) {
        const since = await client
          .aggregateEvents(pid, aggregateType, aggregateId.trim(), { fromVersion: expectedVersion + 1, limit: 100, cursor: null })
          .then((p) => p.items)
          .catch(() => []);
        setOutcome({ kind: "conflict", error, expected: expectedVersion, since });
      } else {
        setOutcome({ kind: "refused", error });
      }
    } finally {
      setBusy(false);
    }
  };

  const switchMode = (next: "form" | "json") => {
    if (next === mode) return;
    if (next === "json") {
      setRawText(JSON.stringify(payload, null, 2));
      setRawProblem(null);
      setMode("json");
      return;
    }
    const parsed = currentPayload();
    if (parsed === null) return;
    setPayload(parsed);
    setRawProblem(null);
    setMode("form");
  };

  const rawChecks = useMemo(() => {
    if (mode !== "json" || !schema) return [];
    try {
      return checkPayload(schema, JSON.parse(rawText) as unknown);
    } catch {
      return [];
    }
  }, [mode, schema, rawText]);

  return (
    <div className="new-event" data-testid="new-event-form" data-can-append={String(props.canAppend)}>
      {!props.canAppend && (
        <div className="notice" data-testid="append-disabled">
          <p>
            You ({identity ?? "nobody"}, {props.role ?? "no role"}) may not append to this practice.
          </p>
          {refusal.data && <p className="engine" data-testid="append-disabled-reason">{refusal.data.message}</p>}
        </div>
      )}
      <fieldset disabled={disabled} className="envelope">
        <label>
          Event type
          <input
            data-testid="event-type-input"
            list="event-type-options"
            placeholder={props.aggregateTypeHint ? `search ${props.aggregateTypeHint} events…` : "search: patient, appointment…"}
            value={typeText}
            onChange={(e) => {
              const next = e.target.value;
              setTypeText(next);
              const found = types.find((t) => t.eventType === next);
              if (found && found.eventType !== eventType?.eventType) {
                setPayload({});
                setRawText("{}");
                setOutcome(null);
                if (found.aggregateType === "practice") setAggregateId(pid);
              }
            }}
          />
          <datalist id="event-type-options">
            {types
              .filter((t) => !props.aggregateTypeHint || t.aggregateType === props.aggregateTypeHint)
              .map((t) => (
                <option key={t.eventType} value={t.eventType}>
                  {t.title}
                </option>
              ))}
          </datalist>
        </label>
        <label>
          Aggregate <span className="muted" data-testid="aggregate-type">{aggregateType || "(follows from the type)"}</span>
          <input
            data-testid="aggregate-input"
            list="aggregate-options"
            placeholder="an existing id, or a new one"
            value={aggregateId}
            onChange={(e) => {
              setAggregateId(e.target.value);
              setOutcome(null);
            }}
          />
          <datalist id="aggregate-options">
            {(existing.data?.items ?? []).map((a) => (
              <option key={a.aggregateId} value={a.aggregateId} />
            ))}
          </datalist>
        </label>
        <button type="button" data-testid="fresh-id" onClick={() => setAggregateId(crypto.randomUUID())}>
          New id
        </button>
        <span className="muted" data-testid="expected-version">
          {expectedVersion === null ? "" : expectedVersion === 0 ? "new aggregate (expects version 0)" : `expects version ${expectedVersion}`}
        </span>
        <label>
          Actor
          <select data-testid="actor-type" value={actorType} onChange={(e) => setActorType(e.target.value as ActorType)}>
            <option value="human">human</option>
            <option value="ai">ai</option>
            <option value="system">system</option>
          </select>
        </label>
        <input data-testid="actor-id" aria-label="Actor id" value={actorId} onChange={(e) => setActorId(e.target.value)} />
      </fieldset>

      {eventType && schema && (
        <>
          <p className="muted">{eventType.description}</p>
          <div className="mode-switch">
            <button type="button" data-testid="mode-form" className={mode === "form" ? "active" : ""} onClick={() => switchMode("form")}>
              Form
            </button>
            <button type="button" data-testid="mode-json" className={mode === "json" ? "active" : ""} onClick={() => switchMode("json")}>
              Raw JSON
            </button>
          </div>
          {mode === "form" ? (
            <div data-testid="payload-form">
              <Form
                schema={schema}
                uiSchema={uiSchema}
                validator={payloadValidator}
                formData={payload}
                onChange={(e) => setPayload((e.formData ?? {}) as Payload)}
                liveValidate="onChange"
                showErrorList={false}
                noHtml5Validate
                extraErrors={extraErrors as ErrorSchema}
                disabled={disabled}
              >
                {/* No submit button of RJSF's own. The actions stay outside the Form: it skips
                    re-rendering when only functions change, which would keep stale handlers. */}
                <></>
              </Form>
              <Actions disabled={disabled} onPreview={() => void send(true)} onAppend={() => void send(false)} />
            </div>
          ) : (
            <div data-testid="payload-json-mode">
              <textarea
                data-testid="raw-json"
                className="raw-json"
                rows={14}
                spellCheck={false}
                disabled={disabled}
                value={rawText}
                onChange={(e) => {
                  setRawText(e.target.value);
                  setRawProblem(null);
                }}
              />
              {(rawProblem || rawChecks.length > 0 || engineErrors.length > 0) && (
                <ul className="raw-errors" data-testid="raw-errors">
                  {rawProblem && <li>{rawProblem}</li>}
                  {rawChecks.map((p, i) => (
                    <li key={`c${i}`}>
                      <code>{p.pointer || "/"}</code> {p.message}
                    </li>
                  ))}
                  {engineErrors.map((v, i) => (
                    <li key={`e${i}`} data-testid="engine-violation">
                      <code>{v.path}</code> {v.message}
                    </li>
                  ))}
                </ul>
              )}
              <Actions disabled={disabled} onPreview={() => void send(true)} onAppend={() => void send(false)} />
            </div>
          )}
        </>
      )}
      {typeText !== "" && !eventType && <UnknownType name={typeText} storeAppended={props.storeAppended} />}
      <OutcomeView pid={pid} outcome={outcome} onAppendAfter={(version) => {
        setExpectedOverride({ key: streamKey, version });
        setOutcome(null);
      }} />
    </div>
  );
}

function UnknownType({ name, storeAppended }: { name: string; storeAppended: EventType[] }) {
  const storeOnly = storeAppended.find((t) => t.eventType === name);
  if (storeOnly)
    return (
      <p className="muted" data-testid="store-appended">
        {onlyTheStoreAppends(storeOnly)}
      </p>
    );
  return <p className="muted">No registered event type is called “{name}”.</p>;
}

function Actions(props: { disabled: boolean; onPreview: () => void; onAppend: () => void }) {
  return (
    <div className="form-actions">
      <button type="button" data-testid="preview" disabled={props.disabled} onClick={props.onPreview}>
        Preview
      </button>
      <button type="button" data-testid="append" className="primary" disabled={props.disabled} onClick={props.onAppend}>
        Append
      </button>
    </div>
  );
}

function OutcomeView(props: { pid: string; outcome: Outcome | null; onAppendAfter: (version: number) => void }) {
  const { outcome, pid } = props;
  if (!outcome) return null;
  switch (outcome.kind) {
    case "appended":
      return (
        <div className="notice ok" data-testid="appended" data-seq={outcome.event.seq}>
          Appended as seq {outcome.event.seq}, version {outcome.event.version}.{" "}
          <Link href={`/p/${enc(pid)}/e/${enc(outcome.event.id)}`} data-testid="appended-link">
            Open it
          </Link>
        </div>
      );
    case "preview":
      return (
        <div className="notice" data-testid="preview-result" data-seq={outcome.event.seq}>
          <p>
            <strong>Preview: nothing was written.</strong> The engine accepts this event and would store it as seq{" "}
            {outcome.event.seq}, version {outcome.event.version}, at {localTime(outcome.event.createdAt)}.
          </p>
          <p className="mono small">hash {outcome.event.hash}</p>
          <JsonTree value={outcome.event.payload} testid="preview-payload" />
        </div>
      );
    case "refused":
      return <ErrorView error={outcome.error} title="Not appended; the form keeps what you entered." />;
    case "conflict": {
      const current = outcome.since.at(-1)?.version ?? outcome.expected;
      return (
        <div className="error" role="alert" data-testid="conflict">
          <strong>Someone appended to this aggregate after you opened the form.</strong>
          <p>
            You expected version {outcome.expected}; it is now {current}. Nothing was written. What came in between:
          </p>
          <ul>
            {outcome.since.map((e) => (
              <li key={e.id} data-testid="conflict-event">
                v{e.version} {e.eventType} by {e.actorType}
                {e.actorId ? ` ${e.actorId}` : ""} at {localTime(e.createdAt)}
              </li>
            ))}
          </ul>
          <button type="button" data-testid="append-after" onClick={() => props.onAppendAfter(current)}>
            Append after them (expect version {current})
          </button>
        </div>
      );
    }
  }
}

function draft(
  practiceId: string,
  eventType: string,
  aggregateType: string,
  aggregateId: string,
  payload: Payload,
  actorType: ActorType,
  actorId: string | null,
  expectedVersion: number | null,
): NewEventInput {
  return {
    id: null,
    practiceId,
    aggregateType,
    aggregateId,
    eventType,
    payload: payload as NewEventInput["payload"],
    actorType,
    actorId,
    expectedVersion,
    createdAt: null,
  };
}
