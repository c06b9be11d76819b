import type { CommandError } from "./bindings";

/** An engine error where it happened: the sentence, then each violation and where. */
export function ErrorView({ error, title }: { error: CommandError; title?: string }) {
  return (
    <div className="error" role="alert" data-testid="error" data-code={error.code}>
      <strong>{title ?? "Something went wrong"}</strong>
      <p>{error.message}</p>
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
