import { Link } from "wouter";
import type { Event } from "../bindings";
import { localTime, utcTitle } from "../lib/format";
import { enc } from "../router";

export const EVENT_ROW_HEIGHT = 30;

/** Column headings matching `EventCells`. */
export function EventHeader({ showAggregate = true }: { showAggregate?: boolean }) {
  return (
    <div className={`row head events-grid${showAggregate ? "" : " no-agg"}`} aria-hidden>
      <span>time (local)</span>
      <span>type</span>
      {showAggregate && <span>aggregate</span>}
      <span>actor</span>
      <span className="num">v</span>
      <span className="num">seq</span>
    </div>
  );
}

/** One event as a row: local time (UTC on hover), type, aggregate, actor coloured by type, version, seq. */
export function EventCells({ event, showAggregate = true }: { event: Event; showAggregate?: boolean }) {
  return (
    <div className={`events-grid${showAggregate ? "" : " no-agg"}`}>
      <span title={utcTitle(event.createdAt)}>{localTime(event.createdAt)}</span>
      <span className="etype">{event.eventType}</span>
      {showAggregate && (
        <span className="agg">
          <Link
            href={`/p/${enc(event.practiceId)}/a/${enc(event.aggregateType)}/${enc(event.aggregateId)}?v=${event.version}`}
            onClick={(e) => e.stopPropagation()}
          >
            {event.aggregateType}/{event.aggregateId.slice(0, 8)}
          </Link>
        </span>
      )}
      <span className={`actor ${event.actorType}`} title={`${event.actorType}; recorded by ${event.recordedBy ?? "(not recorded)"}`}>
        {event.actorId ?? event.actorType}
        {event.recordedBy && event.recordedBy !== event.actorId && (
          <span className="muted small" data-testid="recorded-by">
            {" "}
            via {event.recordedBy}
          </span>
        )}
      </span>
      <span className="num">{event.version}</span>
      <span className="num">{event.seq}</span>
    </div>
  );
}

/** Live tail: pause toggle and how many events arrived while paused. */
export function LiveToggle(props: { paused: boolean; onToggle: () => void; pending: number }) {
  return (
    <span className="live">
      <button type="button" data-testid="live-toggle" aria-pressed={!props.paused} onClick={props.onToggle}>
        {props.paused ? "▶ Resume live" : "❚❚ Pause live"}
      </button>
      <span className={props.paused ? "badge" : "badge on"} data-testid="live-count" data-count={props.pending}>
        {props.paused ? `${props.pending} new while paused` : "live"}
      </span>
    </span>
  );
}
