import type { WireError as CommandError } from "./bindings";

/** What every command resolves to (tauri-specta's typed result). */
export type CommandResult<T> = { status: "ok"; data: T } | { status: "error"; error: CommandError };

/** The failure of a call that never reached a command (IPC refused, bad arguments). */
export function bridgeError(reason: unknown): CommandError {
  return { code: "internal", message: `The desktop app refused the call: ${String(reason)}`, details: [] };
}

/** Unwraps a command result, throwing its typed error. */
export async function unwrap<T>(call: Promise<CommandResult<T>>): Promise<T> {
  let result: CommandResult<T>;
  try {
    result = await call;
  } catch (reason) {
    throw bridgeError(reason);
  }
  // Framework refusals (an ACL denial, a malformed argument) reject with a plain string.
  if (result.status === "error") throw isCommandError(result.error) ? result.error : bridgeError(result.error);
  return result.data;
}

/** True for the `{code, message, details}` shape every command error has. */
export function isCommandError(value: unknown): value is CommandError {
  return typeof value === "object" && value !== null && "code" in value && "message" in value;
}
