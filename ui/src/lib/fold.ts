// Folding an aggregate's payloads into its state, and what one event changed.
import microdiff from "microdiff";
import type { Event, Value } from "../bindings";

type JsonObject = { [key: string]: Value };

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * RFC 7386 JSON merge patch: objects merge recursively, `null` deletes a key, anything else
 * (arrays, scalars) replaces. Never mutates its inputs.
 */
export function mergePatch(target: Value | undefined, patch: Value): Value {
  if (!isObject(patch)) return patch;
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

/** Thrown when events are not one aggregate's stream from version 1 without gaps. */
export class FoldError extends Error {}

/**
 * The aggregate's state at `version`: the payloads of versions 1..version merged in order.
 * `events` must be one aggregate's events sorted by version, starting at 1, without gaps,
 * and reach `version`.
 */
export function stateAt(events: readonly Event[], version: number): Value {
  if (!Number.isInteger(version) || version < 1) throw new FoldError(`version must be 1 or more, got ${version}`);
  let state: Value = {};
  for (let i = 0; i < version; i++) {
    const event = events[i];
    if (!event) throw new FoldError(`version ${version} is not loaded (only ${events.length} events)`);
    if (event.version !== i + 1)
      throw new FoldError(`events out of order: position ${i + 1} holds version ${event.version}`);
    const first = events[0]!;
    if (event.aggregateType !== first.aggregateType || event.aggregateId !== first.aggregateId)
      throw new FoldError(`event ${event.id} belongs to another aggregate`);
    state = mergePatch(state, event.payload);
  }
  return state;
}

/** One difference between two states, at a JSON pointer. */
export type Change =
  | { kind: "added"; path: string; value: unknown }
  | { kind: "removed"; path: string; oldValue: unknown }
  | { kind: "changed"; path: string; oldValue: unknown; value: unknown };

function pointer(path: (string | number)[]): string {
  return path.map((p) => "/" + String(p).replace(/~/g, "~0").replace(/\//g, "~1")).join("") || "/";
}

/** What changed from `before` to `after`, sorted by path. */
export function diffStates(before: Value, after: Value): Change[] {
  if (!isObject(before) && !Array.isArray(before)) {
    return JSON.stringify(before) === JSON.stringify(after) ? [] : [{ kind: "changed", path: "/", oldValue: before, value: after }];
  }
  if (!isObject(after) && !Array.isArray(after)) return [{ kind: "changed", path: "/", oldValue: before, value: after }];
  if (Array.isArray(before) !== Array.isArray(after))
    return [{ kind: "changed", path: "/", oldValue: before, value: after }];
  const changes: Change[] = microdiff(before as JsonObject, after as JsonObject).map((d) => {
    const path = pointer(d.path);
    if (d.type === "CREATE") return { kind: "added", path, value: d.value };
    if (d.type === "REMOVE") return { kind: "removed", path, oldValue: d.oldValue };
    return { kind: "changed", path, oldValue: d.oldValue, value: d.value };
  });
  return changes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The state at `version` and what its event changed (from version - 1; from `{}` for 1). */
export function stateAndDiff(events: readonly Event[], version: number): { state: Value; changes: Change[] } {
  const state = stateAt(events, version);
  const before = version === 1 ? {} : stateAt(events, version - 1);
  return { state, changes: diffStates(before, state) };
}
