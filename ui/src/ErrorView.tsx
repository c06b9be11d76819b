import type { CommandError } from "./client/types";
import { useIdentity } from "./client/context";
import { friendly } from "./lib/errors";

/** An engine error where it happened: a sentence a person understands, the engine's message, each violation and where, and the code. */
export function ErrorView({ error, title }: { error: CommandError; title?: string }) {
  const identity = useIdentity();
  return (
    <div className="error" role="alert" data-testid="error" data-code={error.code}>
      {title && <strong>{title}</strong>}
      <p className="friendly" data-testid="error-friendly">
        {friendly(error, identity)}
      </p>
      <p className="engine">{error.message}</p>
      {error.details.length > 0 && (
        <ul>
          {error.details.map((d, i) => (
            <li key={i}>
              <code>{d.path || "/"}</code> {d.message}
            </li>
          ))}
        </ul>
      )}
      <small>code: {error.code}</small>
    </div>
  );
}

/** Loading, error or empty, in that order; null when there is data to show. */
export function Status(props: {
  loading: boolean;
  error: CommandError | null;
  empty?: boolean;
  emptyText?: string;
  testid?: string;
}) {
  if (props.error) return <ErrorView error={props.error} />;
  if (props.loading)
    return (
      <p className="muted" data-testid="loading">
        Loading…
      </p>
    );
  if (props.empty)
    return (
      <p className="muted" data-testid={props.testid ?? "empty"}>
        {props.emptyText ?? "Nothing here."}
      </p>
    );
  return null;
}
