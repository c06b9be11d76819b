import { describe, expect, it } from "vitest";
import type { Event, Value } from "../bindings";
import { diffStates, FoldError, mergePatch, stateAndDiff, stateAt } from "./fold";

function ev(version: number, payload: Value, over: Partial<Event> = {}): Event {
  return {
    id: `e${version}`,
    practiceId: "p",
    seq: version * 10,
    aggregateType: "patient",
    aggregateId: "a1",
    version,
    eventType: "patient.updated",
    payload,
    actorType: "human",
    actorId: "u",
    createdAt: "2026-01-01T00:00:00Z",
    hash: "h",
    recordedBy: "u",
    ...over,
  };
}

describe("mergePatch (RFC 7386)", () => {
  // The RFC's appendix examples.
  const cases: [Value, Value, Value][] = [
    [{ a: "b" }, { a: "c" }, { a: "c" }],
    [{ a: "b" }, { b: "c" }, { a: "b", b: "c" }],
    [{ a: "b" }, { a: null }, {}],
    [{ a: "b", b: "c" }, { a: null }, { b: "c" }],
    [{ a: ["b"] }, { a: "c" }, { a: "c" }],
    [{ a: "c" }, { a: ["b"] }, { a: ["b"] }],
    [{ a: { b: "c" } }, { a: { b: "d", c: null } }, { a: { b: "d" } }],
    [{ a: [{ b: "c" }] }, { a: [1] }, { a: [1] }],
    [["a", "b"], ["c", "d"], ["c", "d"]],
    [{ a: "b" }, ["c"], ["c"]],
    [{ a: "foo" }, null, null],
    [{ a: "foo" }, "bar", "bar"],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: "b", c: null }, { a: "b" }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  it.each(cases)("merge %j with %j", (target, patch, expected) => {
    expect(mergePatch(target, patch)).toEqual(expected);
  });

  it("merges nested objects recursively and does not mutate inputs", () => {
    const target = { name: { first: "Ann", last: "Lee" }, tags: ["a"] };
    const patch = { name: { last: "Low" }, tags: ["b", "c"] };
    const copy = JSON.parse(JSON.stringify(target));
    expect(mergePatch(target, patch)).toEqual({ name: { first: "Ann", last: "Low" }, tags: ["b", "c"] });
    expect(target).toEqual(copy);
  });
});

describe("stateAt", () => {
  const stream = [
    ev(1, { firstName: "Ann", lastName: "Lee", address: { city: "Oslo", zip: "0150" }, tags: ["new"] }),
    ev(2, { address: { city: "Bergen" }, phone: "123" }),
    ev(3, { phone: null, tags: ["vip"] }),
    ev(4, { address: null }),
  ];

  it("version 1 is the first payload", () => {
    expect(stateAt(stream, 1)).toEqual(stream[0]!.payload);
  });
  it("folds nested merges", () => {
    expect(stateAt(stream, 2)).toEqual({
      firstName: "Ann",
      lastName: "Lee",
      address: { city: "Bergen", zip: "0150" },
      tags: ["new"],
      phone: "123",
    });
  });
  it("null deletes and arrays replace", () => {
    expect(stateAt(stream, 3)).toEqual({ firstName: "Ann", lastName: "Lee", address: { city: "Bergen", zip: "0150" }, tags: ["vip"] });
    expect(stateAt(stream, 4)).toEqual({ firstName: "Ann", lastName: "Lee", tags: ["vip"] });
  });
  it("ignores events after the version", () => {
    expect(stateAt(stream, 1)).not.toHaveProperty("phone");
  });
  it("rejects out-of-order input", () => {
    expect(() => stateAt([stream[1]!, stream[0]!], 2)).toThrow(FoldError);
  });
  it("rejects a gap", () => {
    expect(() => stateAt([stream[0]!, stream[2]!], 2)).toThrow(/position 2 holds version 3/);
  });
  it("rejects a version not loaded, zero or fractional", () => {
    expect(() => stateAt(stream, 5)).toThrow(/not loaded/);
    expect(() => stateAt(stream, 0)).toThrow(FoldError);
    expect(() => stateAt(stream, 1.5)).toThrow(FoldError);
  });
  it("rejects events of another aggregate", () => {
    expect(() => stateAt([stream[0]!, ev(2, {}, { aggregateId: "other" })], 2)).toThrow(/another aggregate/);
  });
});

describe("diff", () => {
  it("lists added, removed and changed paths as JSON pointers", () => {
    const changes = diffStates({ a: 1, b: { c: 2, d: 3 }, gone: true }, { a: 2, b: { c: 2, e: 4 }, "x/y": 1 });
    expect(changes).toEqual([
      { kind: "changed", path: "/a", oldValue: 1, value: 2 },
      { kind: "removed", path: "/b/d", oldValue: 3 },
      { kind: "added", path: "/b/e", value: 4 },
      { kind: "removed", path: "/gone", oldValue: true },
      { kind: "added", path: "/x~1y", value: 1 },
    ]);
  });
  it("is empty when nothing changed", () => {
    expect(diffStates({ a: [1, 2] }, { a: [1, 2] })).toEqual([]);
  });
  it("a replaced array shows per-item changes", () => {
    expect(diffStates({ t: ["a"] }, { t: ["b", "c"] })).toEqual([
      { kind: "changed", path: "/t/0", oldValue: "a", value: "b" },
      { kind: "added", path: "/t/1", value: "c" },
    ]);
  });
  it("scalar states compare as a whole", () => {
    expect(diffStates("a", "b")).toEqual([{ kind: "changed", path: "/", oldValue: "a", value: "b" }]);
    expect(diffStates({ a: 1 }, 5)).toEqual([{ kind: "changed", path: "/", oldValue: { a: 1 }, value: 5 }]);
  });
  it("stateAndDiff: version 1 diffs from empty, later from N-1", () => {
    const s = [ev(1, { a: 1 }), ev(2, { a: null, b: 2 })];
    expect(stateAndDiff(s, 1).changes).toEqual([{ kind: "added", path: "/a", value: 1 }]);
    expect(stateAndDiff(s, 2)).toEqual({
      state: { b: 2 },
      changes: [
        { kind: "removed", path: "/a", oldValue: 1 },
        { kind: "added", path: "/b", value: 2 },
      ],
    });
  });
});
