import { useEffect, useRef, useState } from "react";
import type { ReactNode } from "react";
import { useVirtualizer } from "@tanstack/react-virtual";

/**
 * A virtualized, keyboard-navigable list (↑/↓ or j/k to move, Enter to open, Home/End):
 * only the visible rows exist in the DOM; `onEndReached` asks for the next page.
 */
export function VirtualList<T>(props: {
  items: T[];
  rowHeight: number;
  itemKey: (item: T) => string;
  render: (item: T, index: number) => ReactNode;
  onOpen?: (item: T, index: number) => void;
  onEndReached?: () => void;
  hasMore?: boolean;
  loadingMore?: boolean;
  testid: string;
  rowTestid: string;
  header?: ReactNode;
  selectedKey?: string | null;
  className?: string;
  label: string;
}) {
  const { items, rowHeight, onEndReached, hasMore, loadingMore } = props;
  const parent = useRef<HTMLDivElement>(null);
  const [active, setActive] = useState(0);
  const count = items.length + (hasMore ? 1 : 0);
  // eslint-disable-next-line react-hooks/incompatible-library -- the virtualizer returns fresh values each render
  const virtualizer = useVirtualizer({
    count,
    getScrollElement: () => parent.current,
    estimateSize: () => rowHeight,
    overscan: 12,
  });
  const virtualItems = virtualizer.getVirtualItems();
  const lastIndex = virtualItems.length > 0 ? virtualItems[virtualItems.length - 1]!.index : -1;

  useEffect(() => {
    if (hasMore && !loadingMore && lastIndex >= items.length - 25) onEndReached?.();
  }, [lastIndex, items.length, hasMore, loadingMore, onEndReached]);

  const move = (to: number) => {
    const next = Math.max(0, Math.min(items.length - 1, to));
    setActive(next);
    virtualizer.scrollToIndex(next, { align: "auto" });
  };

  return (
    <div className={`vlist-wrap ${props.className ?? ""}`}>
      {props.header}
      <div
        ref={parent}
        className="vlist"
        data-testid={props.testid}
        tabIndex={0}
        role="listbox"
        aria-label={props.label}
        aria-activedescendant={items.length > 0 ? `${props.testid}-${active}` : undefined}
        onKeyDown={(e) => {
          if (e.key === "ArrowDown" || e.key === "j") move(active + 1);
          else if (e.key === "ArrowUp" || e.key === "k") move(active - 1);
          else if (e.key === "Home") move(0);
          else if (e.key === "End") move(items.length - 1);
          else if (e.key === "PageDown") move(active + 10);
          else if (e.key === "PageUp") move(active - 10);
          else if (e.key === "Enter" && items[active] !== undefined) props.onOpen?.(items[active]!, active);
          else return;
          e.preventDefault();
        }}
      >
        <div style={{ height: virtualizer.getTotalSize(), position: "relative" }}>
          {virtualItems.map((v) => {
            const item = items[v.index];
            const style = { position: "absolute" as const, top: 0, left: 0, right: 0, height: rowHeight, transform: `translateY(${v.start}px)` };
            if (item === undefined)
              return (
                <div key="more" className="row more muted" style={style} data-testid="loading-more">
                  {loadingMore ? "Loading more…" : "More below"}
                </div>
              );
            const key = props.itemKey(item);
            return (
              <div
                key={key}
                id={`${props.testid}-${v.index}`}
                role="option"
                aria-selected={v.index === active}
                className={`row${v.index === active ? " active" : ""}${props.selectedKey === key ? " selected" : ""}`}
                style={style}
                data-testid={props.rowTestid}
                data-key={key}
                onClick={() => {
                  setActive(v.index);
                  props.onOpen?.(item, v.index);
                }}
              >
                {props.render(item, v.index)}
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}
