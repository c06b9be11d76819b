import { describe, expect, it } from "vitest";
import { checkPayload, errorSchemaFromViolations, formSchema, payloadValidator, pointerOf } from "./schema";

const patient = formSchema({
  $schema: "https://json-schema.org/draft/2020-12/schema",
  "x-event-type": "patient.created",
  "x-aggregate-type": "patient",
  type: "object",
  properties: {
    firstName: { type: "string", minLength: 1 },
    dateOfBirth: { type: "string", format: "date" },
    email: { type: "string", format: "email" },
    phone: { type: "string", pattern: "^\\+?[0-9 ()-]{6,20}$" },
  },
  required: ["firstName", "dateOfBirth"],
  additionalProperties: false,
});

describe("payload schemas in the browser", () => {
  it("drops the registry's own keywords and keeps the draft", () => {
    expect(Object.keys(patient)).not.toContain("x-event-type");
    expect(patient.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
  });

  it("checks required fields, formats and patterns as the engine does, by pointer", () => {
    expect(checkPayload(patient, { firstName: "Ann", dateOfBirth: "1990-05-17" })).toEqual([]);
    const problems = checkPayload(patient, { dateOfBirth: "31/12/1990", email: "nope", phone: "x", extra: 1 });
    const pointers = problems.map((p) => p.pointer).sort();
    expect(pointers).toEqual(expect.arrayContaining(["/dateOfBirth", "/email", "/phone", "/firstName"]));
  });

  it("applies a conditional's then, and tells RJSF which branch holds", () => {
    const status = formSchema({
      type: "object",
      properties: { status: { enum: ["requested", "confirmed"] }, scheduledStart: { type: "string", format: "date-time" } },
      required: ["status"],
      allOf: [{ if: { properties: { status: { enum: ["confirmed"] } } }, then: { required: ["scheduledStart"] } }],
    });
    expect(checkPayload(status, { status: "requested" })).toEqual([]);
    expect(checkPayload(status, { status: "confirmed" }).map((p) => p.pointer)).toEqual(["/scheduledStart"]);
    expect(checkPayload(status, { status: "confirmed", scheduledStart: "tomorrow" }).map((p) => p.pointer)).toEqual(["/scheduledStart"]);
    expect(payloadValidator.isValid({ properties: { status: { const: "confirmed" } } }, { status: "confirmed" }, status)).toBe(true);
    expect(payloadValidator.isValid({ properties: { status: { const: "confirmed" } } }, { status: "requested" }, status)).toBe(false);
  });

  it("turns RJSF property paths into JSON pointers", () => {
    expect(pointerOf(".address.city")).toBe("/address/city");
    expect(pointerOf(".items.0")).toBe("/items/0");
    expect(pointerOf("['a/b']")).toBe("/a~1b");
    expect(pointerOf("")).toBe("");
  });

  it("puts the engine's violations on their fields and keeps the others apart", () => {
    const { fields, other } = errorSchemaFromViolations([
      { path: "/payload/email", message: '"nope" is not a "email"' },
      { path: "/payload/address/city", message: "too short" },
      { path: "/payload", message: "missing firstName" },
      { path: "/aggregateId", message: "bad id" },
      { path: "/payloadish", message: "not under the payload" },
    ]);
    expect(fields).toEqual({
      email: { __errors: ['"nope" is not a "email"'] },
      address: { city: { __errors: ["too short"] } },
      __errors: ["missing firstName"],
    });
    expect(other.map((v) => v.path)).toEqual(["/aggregateId", "/payloadish"]);
  });
});
