import type { WireError as CommandError } from "../bindings";

/** One sentence a person understands for an engine error, naming who is acting. */
export function friendly(error: CommandError, identity: string | null): string {
  const who = identity ?? "nobody chosen";
  switch (error.code) {
    case "practice_not_found":
      return `You (${who}) are not a member of this practice, or it does not exist.`;
    case "forbidden":
      return `You (${who}) are a member, but your role may not do this (owners and admins only).`;
    case "unauthenticated":
      return "Choose who to view as first: every request needs a user id.";
    case "not_found":
      return "That was not found: it does not exist here, or the link is out of date.";
    case "unknown_event_type":
      return "That event type is not in the registry.";
    case "invalid":
      return "The request was refused because some input breaks a rule (see below).";
    case "invalid_payload":
      return "The payload does not match its event type's schema.";
    case "version_conflict":
      return "Someone changed this aggregate first; reload it and try again.";
    case "conflict":
      return "This conflicts with what is already stored.";
    case "payload_too_large":
      return "That is larger than the store accepts.";
    case "unavailable":
      return "The Chronicle server or store cannot be reached right now.";
    case "timeout":
      return "The store took too long to answer; try a narrower query.";
    case "store_not_empty":
      return "This store already has data, so demo data was not loaded.";
    case "unknown_projector":
      return "There is no projector by that name.";
    case "identity_required":
      return "Choose who to view as first.";
    case "internal":
      return "Something went wrong inside Chronicle; the log has the details.";
    default:
      return "Something went wrong.";
  }
}
