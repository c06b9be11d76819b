// Charts drawn with uPlot (a small, well-kept canvas chart library): sparklines and stacked daily bars.
// uPlot styles its elements through the CSSOM (element.style), which the CSP (style-src 'self') allows;
// its stylesheet is imported as a file, never injected.
import { useEffect, useMemo, useRef } from "react";
import type { RefObject } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

/** A CSS custom property's current value (so canvas colours follow the light/dark theme). */
function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

/**
 * One uPlot instance in `host`: created from `makeOptions` (re-created when that changes), given
 * `data` (updated in place), resized with the host's width, redrawn when the theme changes and
 * destroyed on unmount.
 */
function useUPlot(
  host: RefObject<HTMLDivElement | null>,
  makeOptions: (width: number) => uPlot.Options,
  data: uPlot.AlignedData,
  fallbackWidth: number,
) {
  const plotRef = useRef<uPlot | null>(null);
  const dataRef = useRef(data);

  useEffect(() => {
    dataRef.current = data;
    plotRef.current?.setData(data);
  }, [data]);

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const widthOf = () => Math.floor(el.clientWidth) || fallbackWidth;
    let width = widthOf();
    const plot = new uPlot(makeOptions(width), dataRef.current, el);
    plotRef.current = plot;

    const resize = new ResizeObserver(() => {
      const w = widthOf();
      if (w !== width) {
        width = w;
        plot.setSize({ width: w, height: plot.height });
      }
    });
    resize.observe(el);

    // Colours are read from CSS variables at draw time: redraw when the theme changes.
    const redraw = () => plot.redraw();
    const theme = new MutationObserver(redraw);
    theme.observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme", "class", "style"] });
    const scheme = window.matchMedia?.("(prefers-color-scheme: dark)");
    scheme?.addEventListener("change", redraw);

    return () => {
      resize.disconnect();
      theme.disconnect();
      scheme?.removeEventListener("change", redraw);
      plot.destroy();
      plotRef.current = null;
    };
  }, [host, makeOptions, fallbackWidth]);
}

/** A line of values, scaled to its own maximum: no axes, legend or cursor. */
export function Sparkline(props: { values: number[]; width?: number; height?: number; label: string; testid?: string }) {
  const { values, width = 120, height = 24 } = props;
  const host = useRef<HTMLDivElement>(null);
  const data = useMemo<uPlot.AlignedData>(() => [values.map((_, i) => i), values], [values]);
  const makeOptions = useMemo(
    () =>
      (w: number): uPlot.Options => ({
        width: w,
        height,
        padding: [2, 1, 2, 1],
        legend: { show: false },
        cursor: { show: false },
        select: { show: false, left: 0, top: 0, width: 0, height: 0 },
        axes: [{ show: false }, { show: false }],
        scales: {
          x: { time: false },
          y: { range: (_u, _min, max) => [0, Math.max(1, max ?? 1)] },
        },
        series: [{}, { stroke: () => cssVar("--accent", "#2563eb"), width: 1.5, points: { show: false } }],
      }),
    [height],
  );
  useUPlot(host, makeOptions, data, width);
  return (
    <div
      ref={host}
      className="sparkline"
      role="img"
      aria-label={props.label}
      title={props.label}
      data-testid={props.testid}
      style={{ width, height }}
    />
  );
}

/** Whole-number steps for count axes: 1, 2, 5, 10, 20, 50, ... */
const COUNT_INCRS = Array.from({ length: 27 }, (_, i) => [1, 2, 5][i % 3]! * 10 ** Math.floor(i / 3));

export type Stack = { key: string; values: Record<string, number> };

/** Bars per key (e.g. a day), each stacked by series (e.g. actor type), the first series at the bottom. */
export function StackedBars(props: {
  stacks: Stack[];
  series: string[];
  height?: number;
  label: string;
  testid?: string;
}) {
  const { stacks, series, height = 160 } = props;
  const host = useRef<HTMLDivElement>(null);
  const seriesKey = series.join("\u0000");
  const names = useMemo(() => (seriesKey === "" ? [] : seriesKey.split("\u0000")), [seriesKey]);

  // uPlot does not stack: series i holds the sum of the first (n - i) series, drawn tallest first,
  // so each bar's visible bands are names[0] at the bottom, then names[1], ...
  const keys = useMemo(() => stacks.map((s) => s.key), [stacks]);
  const data = useMemo<uPlot.AlignedData>(() => {
    const xs = stacks.map((_, i) => i);
    const cumulative = names.map((_, upTo) =>
      stacks.map((s) => names.slice(0, upTo + 1).reduce((sum, k) => sum + (s.values[k] ?? 0), 0)),
    );
    return [xs, ...cumulative.reverse()];
  }, [stacks, names]);
  const totals = stacks.map((s) => names.reduce((sum, k) => sum + (s.values[k] ?? 0), 0));
  const max = Math.max(1, ...totals);

  const keysRef = useRef(keys);
  const stacksRef = useRef(stacks);
  useEffect(() => {
    keysRef.current = keys;
    stacksRef.current = stacks;
  }, [keys, stacks]);

  const makeOptions = useMemo(() => {
    const bars = uPlot.paths.bars!({ size: [0.8, 14, 2], align: 0 });
    const drawn = [...names].reverse();
    // A tooltip with the hovered day and its counts, inside uPlot's cursor overlay (removed with the plot).
    const showTip = (u: uPlot) => {
      const tip = u.over.querySelector<HTMLDivElement>(".chart-tip");
      if (!tip) return;
      const idx = u.cursor.idx;
      const stack = idx == null ? undefined : stacksRef.current[idx];
      if (idx == null || !stack || u.cursor.left == null || u.cursor.left < 0) {
        tip.hidden = true;
        return;
      }
      const day = document.createElement("strong");
      day.textContent = stack.key;
      const rows = names.map((k) => {
        const row = document.createElement("div");
        row.className = `legend ${k}`;
        row.textContent = `${k} ${stack.values[k] ?? 0}`;
        return row;
      });
      tip.replaceChildren(day, ...rows);
      tip.hidden = false;
      const x = u.valToPos(idx, "x");
      const left = x + 12 + tip.offsetWidth > u.over.clientWidth ? x - 12 - tip.offsetWidth : x + 12;
      tip.style.left = `${Math.max(0, left)}px`;
      tip.style.top = "4px";
    };
    return (w: number): uPlot.Options => ({
      width: w,
      height: height + 40,
      padding: [8, 8, 0, 0],
      legend: { show: false },
      hooks: {
        init: [
          (u) => {
            const tip = document.createElement("div");
            tip.className = "chart-tip";
            tip.hidden = true;
            u.over.appendChild(tip);
          },
        ],
        setCursor: [showTip],
      },
      cursor: { y: false, points: { show: false }, drag: { x: false, y: false, setScale: false } },
      select: { show: false, left: 0, top: 0, width: 0, height: 0 },
      scales: {
        x: { time: false, range: (u) => [-0.5, Math.max(0.5, u.data[0].length - 0.5)] },
        y: { range: (_u, _min, m) => uPlot.rangeNum(0, Math.max(1, m ?? 1), 0.1, true) },
      },
      axes: [
        {
          stroke: () => cssVar("--muted", "#6b7280"),
          grid: { show: false },
          ticks: { stroke: () => cssVar("--line", "#e5e7eb") },
          space: 90,
          incrs: [1, 2, 3, 5, 7, 10, 14, 30, 60, 90, 180, 365, 730],
          values: (_u, splits) => splits.map((i) => (Number.isInteger(i) ? (keysRef.current[i] ?? "") : "")),
        },
        {
          stroke: () => cssVar("--muted", "#6b7280"),
          grid: { stroke: () => cssVar("--line", "#e5e7eb"), width: 1 },
          ticks: { show: false },
          size: 44,
          incrs: COUNT_INCRS,
          values: (_u, splits) => splits.map((v) => (Number.isInteger(v) ? String(v) : "")),
        },
      ],
      series: [
        {},
        ...drawn.map((k) => ({
          label: k,
          stroke: () => cssVar(`--${k}`, "#888"),
          fill: () => cssVar(`--${k}`, "#888"),
          width: 0,
          paths: bars,
          points: { show: false },
        })),
      ],
    });
  }, [names, height]);

  useUPlot(host, makeOptions, data, 600);

  const sums = names.map((k) => stacks.reduce((sum, s) => sum + (s.values[k] ?? 0), 0));
  const summary =
    stacks.length === 0
      ? `${props.label}: no data`
      : `${props.label}: ${stacks[0]!.key} to ${stacks[stacks.length - 1]!.key}, ${stacks.length} days, ` +
        `${names.map((k, i) => `${k} ${sums[i]}`).join(", ")}, peak ${max} per day`;

  return (
    <figure className="chart" data-testid={props.testid}>
      <div ref={host} className="chart-plot" role="img" aria-label={summary} />
      <figcaption>
        {names.map((k) => (
          <span key={k} className={`legend ${k}`}>
            {k}
          </span>
        ))}
        {stacks.length > 0 && (
          <span className="muted">
            {" "}
            {stacks[0]!.key} … {stacks[stacks.length - 1]!.key}, peak {max}/day
          </span>
        )}
      </figcaption>
    </figure>
  );
}
