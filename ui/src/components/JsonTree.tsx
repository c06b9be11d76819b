import { useState } from "react";
import { JsonView, allExpanded, defaultStyles } from "react-json-view-lite";
import "react-json-view-lite/dist/index.css";
import type { Value } from "../bindings";

/** A JSON value as an expandable tree, with a copy button. */
export function JsonTree({ value, testid = "json-tree" }: { value: Value | unknown; testid?: string }) {
  const [copied, setCopied] = useState<string | null>(null);
  const text = JSON.stringify(value, null, 2);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied("Copied");
    } catch {
      setCopied("Copy refused by the browser: select the raw JSON instead");
    }
    setTimeout(() => setCopied(null), 2000);
  };
  return (
    <div className="json" data-testid={testid}>
      <div className="json-tools">
        <button type="button" data-testid="copy-json" onClick={() => void copy()}>
          Copy JSON
        </button>
        {copied && <span className="muted">{copied}</span>}
      </div>
      {typeof value === "object" && value !== null ? (
        <JsonView data={value as object} shouldExpandNode={allExpanded} style={{ ...defaultStyles, container: "json-container" }} />
      ) : (
        <pre>{text}</pre>
      )}
    </div>
  );
}
