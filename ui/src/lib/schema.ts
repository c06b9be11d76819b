// The payload schemas in the browser: one validator for the generated form and the raw JSON
// mode, configured as the engine validates (JSON Schema draft 2020-12, formats checked), and
// the mapping from the engine's violations (JSON pointers) to the form's fields.
//
// Why not RJSF's ajv8 validator: Ajv compiles every schema into JavaScript with `new Function`,
// which the console's and the window's Content-Security-Policy (`script-src 'self'`, no
// 'unsafe-eval') forbids, and the schemas arrive at run time (`--registry-dir`), so they cannot
// be precompiled at build time. @cfworker/json-schema interprets draft 2020-12 (formats
// included) without generating code; `payloadValidator` adapts it to RJSF's validator interface.
import { Validator } from "@cfworker/json-schema";
import type { Schema } from "@cfworker/json-schema";
import type { ErrorSchema, RJSFSchema, RJSFValidationError, ValidationData, ValidatorType } from "@rjsf/utils";
import { toErrorSchema } from "@rjsf/utils";
import type { Violation } from "../bindings";

/** Keywords whose failure only says that something inside failed; the inner error is kept. */
const WRAPPERS = new Set(["properties", "items", "prefixItems", "allOf", "anyOf", "oneOf", "if", "then", "else", "$ref", "dependentSchemas", "contains"]);

const compiled = new WeakMap<object, Validator>();

function validatorFor(schema: RJSFSchema, rootSchema?: RJSFSchema): Validator {
  const cached = compiled.get(schema);
  if (cached) return cached;
  const withDefinitions: RJSFSchema =
    rootSchema && rootSchema !== schema ? { ...schema, $defs: rootSchema.$defs, definitions: rootSchema.definitions } : schema;
  const validator = new Validator(withDefinitions as Schema, "2020-12", false);
  compiled.set(schema, validator);
  return validator;
}

/** The failures of one validation, as RJSF errors on the fields they concern. */
function errorsOf(schema: RJSFSchema, data: unknown): RJSFValidationError[] {
  const result = validatorFor(schema).validate(data === undefined ? {} : data);
  if (result.valid) return [];
  const errors: RJSFValidationError[] = [];
  for (const unit of result.errors) {
    if (WRAPPERS.has(unit.keyword)) continue;
    const segments = unit.instanceLocation.replace(/^#/, "").split("/").slice(1).map(decodeURIComponent);
    // A missing required property is shown on that property, as RJSF does.
    const missing = unit.keyword === "required" ? /"([^"]+)"/.exec(unit.error)?.[1] : undefined;
    if (missing) segments.push(missing);
    const property = segments.length ? `.${segments.join(".")}` : ".";
    errors.push({
      name: unit.keyword,
      property,
      message: unit.error,
      params: {},
      stack: `${property} ${unit.error}`,
      schemaPath: unit.keywordLocation,
    });
  }
  return errors;
}

/** RJSF's validator interface over @cfworker/json-schema (draft 2020-12, formats checked). */
export const payloadValidator: ValidatorType = {
  // Chronicle's forms pass no custom validation: the schema is the whole rule.
  validateFormData(formData, schema, _customValidate, transformErrors, uiSchema): ValidationData<unknown> {
    let errors = errorsOf(schema, formData);
    if (transformErrors) errors = transformErrors(errors, uiSchema);
    return { errors, errorSchema: toErrorSchema(errors) as ErrorSchema };
  },
  isValid(schema, formData, rootSchema) {
    try {
      return validatorFor(schema, rootSchema).validate(formData).valid;
    } catch {
      return false;
    }
  },
  rawValidation(schema, formData) {
    try {
      return { errors: errorsOf(schema, formData) as never[] };
    } catch (reason) {
      return { validationError: reason instanceof Error ? reason : new Error(String(reason)) };
    }
  },
};

/** The schema as the form uses it: the registry's own keywords (`x-event-type`, …) dropped. */
export function formSchema(schema: unknown): RJSFSchema {
  const copy: Record<string, unknown> = { ...(schema as Record<string, unknown>) };
  for (const key of Object.keys(copy)) if (key.startsWith("x-")) delete copy[key];
  return copy as RJSFSchema;
}

/** One problem with a payload, at a JSON pointer into the payload ("" is the payload itself). */
export type PayloadProblem = { pointer: string; message: string };

/** The browser's own check of a payload: the same schema, the same draft. */
export function checkPayload(schema: RJSFSchema, payload: unknown): PayloadProblem[] {
  const { errors } = payloadValidator.validateFormData(payload, schema);
  return errors.map((e: RJSFValidationError) => ({ pointer: pointerOf(e.property ?? ""), message: e.message ?? e.stack }));
}

/** RJSF's property path (`.address.city`, `.items.0`) as a JSON pointer. */
export function pointerOf(property: string): string {
  if (property === "" || property === ".") return "";
  return property
    .replace(/\[['"]?([^\]'"]+)['"]?\]/g, ".$1")
    .split(".")
    .filter((s) => s !== "")
    .map((s) => `/${s.replace(/~/g, "~0").replace(/\//g, "~1")}`)
    .join("");
}

/**
 * The engine's violations under `prefix` (`/payload` for an append, `/events/0/payload` in a
 * batch) as the form's error schema, so each message shows on its field; the rest (fields
 * outside the payload) are returned apart.
 */
export function errorSchemaFromViolations(
  violations: Violation[],
  prefix = "/payload",
): { fields: ErrorSchema; other: Violation[] } {
  const fields: Record<string, unknown> = {};
  const other: Violation[] = [];
  for (const v of violations) {
    if (v.path !== prefix && !v.path.startsWith(`${prefix}/`)) {
      other.push(v);
      continue;
    }
    const segments = v.path
      .slice(prefix.length)
      .split("/")
      .slice(1)
      .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
    let node = fields;
    for (const segment of segments) {
      node[segment] ??= {};
      node = node[segment] as Record<string, unknown>;
    }
    const list = (node.__errors ??= []) as string[];
    list.push(v.message);
  }
  return { fields: fields as ErrorSchema, other };
}
