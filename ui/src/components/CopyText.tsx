import { useState } from "react";

/** A value worth writing down (a digest, a head hash) shown in full, with a copy button. */
export function CopyText({ text, label, testid }: { text: string; label: string; testid: string }) {
  const [said, setSaid] = useState<string | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setSaid("Copied");
    } catch {
      setSaid("Copy refused: select the text instead");
    }
    setTimeout(() => setSaid(null), 2000);
  };
  return (
    <span className="copy-text">
      <code className="mono" data-testid={testid}>
        {text}
      </code>
      <button type="button" data-testid={`${testid}-copy`} aria-label={`Copy ${label}`} onClick={() => void copy()}>
        Copy
      </button>
      {said && <span className="muted small">{said}</span>}
    </span>
  );
}
