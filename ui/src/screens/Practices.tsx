import { useState } from "react";
import { useLocation } from "wouter";
import { useData, useIdentity } from "../client/context";
import { Sparkline } from "../components/charts";
import { Status } from "../ErrorView";
import { usePractices } from "../hooks";
import type { Practice } from "../hooks";
import { ago, localTime, num, utcDay, utcTitle } from "../lib/format";
import { enc } from "../router";

/** The practices the identity may read: name, event count, last activity, a 30-day sparkline. */
export function Practices() {
  const identity = useIdentity();
  const [, go] = useLocation();
  const practices = usePractices();
  const [query, setQuery] = useState("");
  const [active, setActive] = useState(0);
  if (identity === null)
    return (
      <section className="screen">
        <h2>Practices</h2>
        <p className="muted" data-testid="no-identity">
          Choose who to view as (top right) to see the practices that user may read.
        </p>
      </section>
    );
  const q = query.trim().toLowerCase();
  const shown = (practices.list ?? []).filter(
    (p) => q === "" || p.practiceId.toLowerCase().includes(q) || (p.name ?? "").toLowerCase().includes(q),
  );
  // The banner notes the practice as opened once the app is in it.
  const open = (p: Practice) => go(`/p/${enc(p.practiceId)}`);
  return (
    <section className="screen" data-testid="practices-screen">
      <div className="screen-head">
        <h2>Practices</h2>
        <input
          type="search"
          data-testid="practice-search"
          placeholder="Search by name or id"
          value={query}
          onChange={(e) => {
            setQuery(e.target.value);
            setActive(0);
          }}
        />
      </div>
      <Status
        loading={practices.loading}
        error={practices.error}
        empty={practices.list !== undefined && practices.list.length === 0}
        emptyText={`${identity} is not a member of any practice.`}
        testid="no-practices"
      />
      {practices.list && practices.list.length > 0 && shown.length === 0 && (
        <p className="muted" data-testid="no-match">
          No practice matches “{query}”.
        </p>
      )}
      <ul
        className="practice-list"
        data-testid="practice-list"
        tabIndex={0}
        aria-label="Practices (↑/↓ or j/k, Enter to open)"
        onKeyDown={(e) => {
          if (e.key === "ArrowDown" || e.key === "j") setActive((a) => Math.min(shown.length - 1, a + 1));
          else if (e.key === "ArrowUp" || e.key === "k") setActive((a) => Math.max(0, a - 1));
          else if (e.key === "Enter" && shown[active]) open(shown[active]!);
          else return;
          e.preventDefault();
        }}
      >
        {shown.map((p, i) => (
          <li key={p.practiceId}>
            <button
              type="button"
              className={i === active ? "practice active" : "practice"}
              data-testid="practice"
              data-practice-id={p.practiceId}
              onClick={() => open(p)}
            >
              <span className="name">
                {p.name ?? p.practiceId}
                {practices.recent.includes(p.practiceId) && <span className="badge">recent</span>}
              </span>
              <span className="meta mono">{p.practiceId}</span>
              <span className="meta">
                {p.role ?? "system"} · {num(p.eventCount)} events ·{" "}
                <span title={utcTitle(p.lastEventAt)}>
                  last {localTime(p.lastEventAt)} ({ago(p.lastEventAt)})
                </span>
              </span>
              <PracticeSparkline practiceId={p.practiceId} />
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

function PracticeSparkline({ practiceId }: { practiceId: string }) {
  const from = utcDay(29);
  const days = useData(["activity", practiceId, from], (c) => c.dailyActivity(practiceId, { fromDay: from }));
  if (!days.data) return <span className="sparkline-empty" />;
  const totals = new Map<string, number>();
  for (let i = 29; i >= 0; i--) totals.set(utcDay(i), 0);
  for (const d of days.data) if (totals.has(d.day)) totals.set(d.day, totals.get(d.day)! + d.events);
  const values = [...totals.values()];
  return (
    <Sparkline
      values={values}
      label={`events per day, last 30 days: ${values.reduce((a, b) => a + b, 0)} in all`}
      testid="practice-sparkline"
    />
  );
}
