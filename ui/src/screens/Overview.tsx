import { Link } from "wouter";
import { useData } from "../client/context";
import { ChainBadge } from "../components/ChainBadge";
import { StackedBars } from "../components/charts";
import { ExportButton } from "../components/ExportDialog";
import type { Stack } from "../components/charts";
import { Status } from "../ErrorView";
import { usePractices } from "../hooks";
import { ago, localTime, num, utcTitle } from "../lib/format";
import { enc, href } from "../router";

const ACTORS = ["human", "ai", "system"];

/** A practice at a glance: activity per day by actor type, counts per aggregate and event
 * type, and its people. */
export function Overview({ params }: { params: { pid: string } }) {
  const pid = params.pid;
  const base = `/p/${enc(pid)}`;
  const practices = usePractices();
  const practice = practices.list?.find((p) => p.practiceId === pid);
  const days = useData(["activity", pid, "all"], (c) => c.dailyActivity(pid, {}));
  const registry = useData(["registry"], (c) => c.registry());
  const members = useData(["members", pid], (c) => c.members(pid));
  const aggregateOf = new Map((registry.data ?? []).map((t) => [t.eventType, t.aggregateType]));

  const perDay = new Map<string, Record<string, number>>();
  const perType = new Map<string, number>();
  const perAggregate = new Map<string, number>();
  for (const d of days.data ?? []) {
    const row = perDay.get(d.day) ?? {};
    row[d.actorType] = (row[d.actorType] ?? 0) + d.events;
    perDay.set(d.day, row);
    perType.set(d.eventType, (perType.get(d.eventType) ?? 0) + d.events);
    const agg = aggregateOf.get(d.eventType) ?? d.eventType.split(".")[0] ?? "?";
    perAggregate.set(agg, (perAggregate.get(agg) ?? 0) + d.events);
  }
  const stacks: Stack[] = [...perDay.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([key, values]) => ({ key, values }));
  const sorted = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]);

  return (
    <section className="screen" data-testid="overview">
      <div className="screen-head">
        <h2>{practice?.name ?? pid}</h2>
        {practice && (
          <span className="muted">
            {num(practice.eventCount)} events · your role: {practice.role ?? "system"} · last event{" "}
            <span title={utcTitle(practice.lastEventAt)}>
              {localTime(practice.lastEventAt)} ({ago(practice.lastEventAt)})
            </span>
          </span>
        )}
        <ExportButton practiceId={pid} scope={{ kind: "practice" }} />
      </div>
      <ChainBadge practiceId={pid} />
      <Status loading={days.isPending} error={days.error} empty={days.data?.length === 0} emptyText="No activity recorded yet (the daily activity projector may still be catching up)." />
      {days.data && days.data.length > 0 && (
        <>
          <h3>Events per day, by actor type</h3>
          <StackedBars stacks={stacks} series={ACTORS} label="events per day by actor type" testid="activity-chart" />
          <div className="columns">
            <div>
              <h3>By aggregate type</h3>
              <table className="counts" data-testid="aggregate-type-counts">
                <tbody>
                  {sorted(perAggregate).map(([type, n]) => (
                    <tr key={type}>
                      <td>
                        <Link href={href(`${base}/aggregates`, { type })} data-testid="aggregate-type-link">
                          {type}
                        </Link>
                      </td>
                      <td className="num">{num(n)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <div>
              <h3>By event type</h3>
              <table className="counts" data-testid="event-type-counts">
                <tbody>
                  {sorted(perType).map(([type, n]) => (
                    <tr key={type}>
                      <td>
                        <Link href={href(`${base}/events`, { types: type })} data-testid="event-type-link">
                          {type}
                        </Link>
                      </td>
                      <td className="num">{num(n)}</td>
                      <td>
                        <Link href={`/registry/${enc(type)}`} className="muted">
                          schema
                        </Link>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </div>
        </>
      )}
      <h3>People</h3>
      <Status loading={members.isPending} error={members.error} empty={members.data?.members.length === 0} emptyText="No members." />
      {members.data && members.data.members.length > 0 && (
        <table className="counts" data-testid="members">
          <tbody>
            {members.data.members.map((m) => (
              <tr key={m.userId} data-testid="member">
                <td>
                  <Link href={href(`${base}/events`, { actorId: m.userId })} title="Events this user made">
                    {m.userId}
                  </Link>
                </td>
                <td>{m.displayName ?? <span className="muted">name not known yet</span>}</td>
                <td className="muted">{m.email ?? ""}</td>
                <td>{m.role}</td>
                <td className="muted small" data-testid="member-changed-by">
                  <Link href={`${base}/a/membership/${enc(m.userId)}`} title={`The membership's history; its role comes from seq ${m.changedSeq}`}>
                    {m.sinceSeq === m.changedSeq ? "granted" : "changed"}
                  </Link>{" "}
                  by {m.changedBy ?? "(not recorded)"}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {members.data && members.data.removed.length > 0 && (
        <>
          <h4>Former members</h4>
          <table className="counts" data-testid="former-members">
            <tbody>
              {members.data.removed.map((r) => (
                <tr key={r.userId} data-testid="former-member">
                  <td>
                    <Link href={`${base}/a/membership/${enc(r.userId)}`}>{r.userId}</Link>
                  </td>
                  <td className="muted small">
                    removed by {r.removedBy ?? "(not recorded)"} · {localTime(r.removedAt)}
                  </td>
                  <td className="muted">{r.reason ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
