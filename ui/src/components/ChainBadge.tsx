import { useData } from "../client/context";
import { ErrorView } from "../ErrorView";
import { chainBadge } from "../lib/exports";
import { localTime } from "../lib/format";
import { CopyText } from "./CopyText";

/**
 * The practice's chain, verified live: intact (how many events, as of when the check ran) or
 * broken (where and why), and its head hash to write down. The check recomputes every hash, so
 * it runs when the overview opens and when asked, not on every new event.
 */
export function ChainBadge({ practiceId }: { practiceId: string }) {
  const report = useData(["verify", practiceId], (c) => c.verify(practiceId));
  const head = useData(["head", practiceId], (c) => c.chainHead(practiceId));
  const recheck = () => {
    void report.refetch();
    void head.refetch();
  };
  if (report.error) return <ErrorView error={report.error} title="The chain could not be checked" />;
  const badge = report.data ? chainBadge(report.data) : null;
  return (
    <div className="chain" data-testid="chain">
      {badge === null || report.isFetching ? (
        <span className="chain-badge" data-testid="chain-badge" data-state="checking">
          checking the chain…
        </span>
      ) : (
        <span className={badge.ok ? "chain-badge ok" : "chain-badge broken"} data-testid="chain-badge" data-state={badge.ok ? "intact" : "broken"}>
          {badge.ok ? "✓" : "✗"} {badge.text} · as of {localTime(new Date(report.dataUpdatedAt).toISOString())}
        </span>
      )}
      <button type="button" data-testid="chain-recheck" disabled={report.isFetching} onClick={recheck}>
        Check again
      </button>
      {head.data && (
        <span className="chain-head" data-testid="chain-head" data-seq={head.data.seq}>
          head seq {head.data.seq}: <CopyText text={head.data.hash} label="the head hash" testid="chain-head-hash" />
          <span className="muted small"> write this down to anchor the history</span>
        </span>
      )}
    </div>
  );
}
