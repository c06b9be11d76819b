import { describe, expect, it } from "vitest";
import { isCommandError, unwrap } from "./result";

describe("unwrap", () => {
  it("returns the data of an ok result", async () => {
    await expect(unwrap(Promise.resolve({ status: "ok" as const, data: 42 }))).resolves.toBe(42);
  });

  it("throws the typed error of an error result", async () => {
    const error = { code: "forbidden" as const, message: "viewers may not append", details: [] };
    await expect(unwrap(Promise.resolve({ status: "error" as const, error }))).rejects.toEqual(error);
  });

  it("turns a framework refusal (a plain string) into an internal error that quotes it", async () => {
    const refusal = "command append not allowed by ACL";
    const call = Promise.resolve({ status: "error" as const, error: refusal as never });
    await expect(unwrap(call)).rejects.toEqual({
      code: "internal",
      message: `The desktop app refused the call: ${refusal}`,
      details: [],
    });
  });

  it("turns a rejected call into an internal error", async () => {
    await expect(unwrap(Promise.reject(new Error("IPC gone")))).rejects.toMatchObject({ code: "internal" });
  });
});

describe("isCommandError", () => {
  it("recognises the bridge shape only", () => {
    expect(isCommandError({ code: "x", message: "y", details: [] })).toBe(true);
    expect(isCommandError("x")).toBe(false);
    expect(isCommandError(null)).toBe(false);
  });
});
