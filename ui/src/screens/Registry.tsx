import { Link } from "wouter";
import type { EventType, Value } from "../bindings";
import { useData, useIdentity } from "../client/context";
import { JsonTree } from "../components/JsonTree";
import { Status } from "../ErrorView";
import { usePractices } from "../hooks";
import { enc, href } from "../router";

type Schema = { [key: string]: Value };

function isSchema(v: unknown): v is Schema {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A property's type in words: `string (email)`, `array of string`, `"a" | "b"`. */
export function describeType(s: Schema): string {
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(" | ");
  if ("const" in s) return `= ${JSON.stringify(s.const)}`;
  const t = Array.isArray(s.type) ? s.type.join(" | ") : typeof s.type === "string" ? s.type : "";
  if (t === "array" && isSchema(s.items)) return `array of ${describeType(s.items)}`;
  if (!t && Array.isArray(s.oneOf ?? s.anyOf)) return ((s.oneOf ?? s.anyOf) as Value[]).filter(isSchema).map(describeType).join(" | ");
  return t || "any";
}

/** Constraints in words: format, bounds, lengths, pattern. */
export function constraints(s: Schema): string[] {
  const out: string[] = [];
  if (typeof s.format === "string") out.push(`format ${s.format}`);
  if (typeof s.minimum === "number") out.push(`≥ ${s.minimum}`);
  if (typeof s.exclusiveMinimum === "number") out.push(`> ${s.exclusiveMinimum}`);
  if (typeof s.maximum === "number") out.push(`≤ ${s.maximum}`);
  if (typeof s.exclusiveMaximum === "number") out.push(`< ${s.exclusiveMaximum}`);
  if (typeof s.minLength === "number") out.push(`length ≥ ${s.minLength}`);
  if (typeof s.maxLength === "number") out.push(`length ≤ ${s.maxLength}`);
  if (typeof s.pattern === "string") out.push(`matches ${s.pattern}`);
  if (typeof s.minItems === "number") out.push(`≥ ${s.minItems} items`);
  if (typeof s.maxItems === "number") out.push(`≤ ${s.maxItems} items`);
  if (s.uniqueItems === true) out.push("unique items");
  if (typeof s.description === "string") out.push(s.description);
  return out;
}

/** Why a type has no New event form, or null when people may append it. */
export function onlyTheStoreAppends(type: EventType): string | null {
  return type.appendedBy === null ? null : `Only the store appends ${type.eventType}: ${type.appendedBy}.`;
}

/** Every registered event type; one type's schema as a readable properties table, raw JSON too. */
export function Registry({ params }: { params: { type?: string } }) {
  const identity = useIdentity();
  const registry = useData(["registry"], (c) => c.registry());
  const chosen = params.type ? decodeURIComponent(params.type) : null;
  const type = registry.data?.find((t) => t.eventType === chosen);
  return (
    <section className="screen" data-testid="registry">
      <div className="screen-head">
        <h2>Event registry</h2>
        <span className="muted">{registry.data ? `${registry.data.length} event types` : ""}</span>
      </div>
      {identity === null && <p className="muted">Choose who to view as to read the registry.</p>}
      <Status loading={registry.isPending && identity !== null} error={registry.error} />
      <div className="split registry-split">
        <ul className="type-list" data-testid="registry-list">
          {registry.data?.map((t) => (
            <li key={t.eventType}>
              <Link href={`/registry/${enc(t.eventType)}`} data-testid="registry-type" className={t.eventType === chosen ? "active" : ""}>
                {t.eventType}
              </Link>
              <span className="muted"> {t.aggregateType}</span>
            </li>
          ))}
        </ul>
        <div className="detail">
          {chosen && registry.data && !type && <p className="muted">No event type “{chosen}” is registered.</p>}
          {!chosen && <p className="muted">Pick an event type to see its schema.</p>}
          {type && (
            <article data-testid="registry-detail">
              <h3>
                {type.title} <code>{type.eventType}</code>
              </h3>
              <p>{type.description}</p>
              <NewEventAction type={type} />
              <p className="muted">
                aggregate type <strong>{type.aggregateType}</strong> · from {type.source}
                {isSchema(type.schema) && type.schema.additionalProperties === false && " · no other properties allowed"}
              </p>
              <SchemaTable schema={isSchema(type.schema) ? type.schema : {}} />
              <details>
                <summary>Raw JSON Schema</summary>
                <JsonTree value={type.schema} testid="schema-raw" />
              </details>
            </article>
          )}
        </div>
      </div>
    </section>
  );
}

/**
 * The New event form with this type chosen. The registry belongs to no practice: the form opens
 * in the one opened last, or asks which; another practice is a click away either way.
 */
function NewEventAction({ type }: { type: EventType }) {
  const practices = usePractices();
  const storeOnly = onlyTheStoreAppends(type);
  if (storeOnly !== null)
    return (
      <p>
        <button type="button" disabled data-testid="registry-new-event">
          New event…
        </button>{" "}
        <span className="muted" data-testid="registry-new-event-reason">
          {storeOnly}
        </span>
      </p>
    );
  // Not before the practices are known: the link would ask for a practice it could have named.
  if (practices.current === undefined && !practices.error) return null;
  const anyPractice = href("/new", { type: type.eventType });
  const current = practices.current;
  return (
    <p>
      {current ? (
        <>
          <Link
            href={href(`/p/${enc(current.practiceId)}/new`, { type: type.eventType })}
            data-testid="registry-new-event"
            data-practice-id={current.practiceId}
          >
            New event in {current.name ?? current.practiceId}…
          </Link>{" "}
          <Link href={anyPractice} data-testid="registry-new-event-elsewhere" className="muted">
            or in another practice
          </Link>
        </>
      ) : (
        <Link href={anyPractice} data-testid="registry-new-event">
          New event…
        </Link>
      )}
    </p>
  );
}

function SchemaTable({ schema, prefix = "" }: { schema: Schema; prefix?: string }) {
  const props = isSchema(schema.properties) ? schema.properties : {};
  const required = new Set(Array.isArray(schema.required) ? schema.required.map(String) : []);
  const rows = Object.entries(props).filter((e): e is [string, Schema] => isSchema(e[1]));
  if (rows.length === 0 && !prefix) return <p className="muted">No properties: the payload is {describeType(schema)}.</p>;
  return (
    <table className="schema" data-testid={prefix ? undefined : "schema-table"}>
      {!prefix && (
        <thead>
          <tr>
            <th>property</th>
            <th>type</th>
            <th>required</th>
            <th>constraints</th>
          </tr>
        </thead>
      )}
      <tbody>
        {rows.flatMap(([name, s]) => {
          const path = `${prefix}${name}`;
          const row = (
            <tr key={path}>
              <td className="mono">{path}</td>
              <td>{describeType(s)}</td>
              <td>{required.has(name) ? "required" : "optional"}</td>
              <td>{constraints(s).join("; ")}</td>
            </tr>
          );
          const nested = isSchema(s.properties) ? (
            <tr key={`${path}/nested`}>
              <td colSpan={4} className="nested">
                <SchemaTable schema={s} prefix={`${path}.`} />
              </td>
            </tr>
          ) : null;
          return nested ? [row, nested] : [row];
        })}
      </tbody>
    </table>
  );
}
