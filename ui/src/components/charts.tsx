// Tiny SVG charts: no chart library needed for sparklines and stacked daily bars.

/** A line of values, scaled to its own maximum. */
export function Sparkline(props: { values: number[]; width?: number; height?: number; label: string; testid?: string }) {
  const { values, width = 120, height = 24 } = props;
  const max = Math.max(1, ...values);
  const step = values.length > 1 ? width / (values.length - 1) : width;
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(height - 1 - (v / max) * (height - 2)).toFixed(1)}`);
  return (
    <svg
      className="sparkline"
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-label={props.label}
      data-testid={props.testid}
    >
      <title>{props.label}</title>
      {values.length > 0 && <polyline fill="none" strokeWidth="1.5" points={points.join(" ")} />}
    </svg>
  );
}

export type Stack = { key: string; values: Record<string, number> };

/** Bars per key (e.g. a day), each stacked by series (e.g. actor type). */
export function StackedBars(props: {
  stacks: Stack[];
  series: string[];
  height?: number;
  label: string;
  testid?: string;
}) {
  const { stacks, series, height = 160 } = props;
  const barWidth = Math.max(2, Math.min(14, Math.floor(900 / Math.max(1, stacks.length))));
  const width = stacks.length * (barWidth + 1);
  const max = Math.max(1, ...stacks.map((s) => series.reduce((sum, k) => sum + (s.values[k] ?? 0), 0)));
  return (
    <figure className="chart" data-testid={props.testid}>
      <svg width={Math.max(width, 200)} height={height} role="img" aria-label={props.label}>
        {stacks.map((s, i) => {
          let y = height;
          return (
            <g key={s.key}>
              <title>
                {s.key}: {series.map((k) => `${k} ${s.values[k] ?? 0}`).join(", ")}
              </title>
              {series.map((k) => {
                const h = ((s.values[k] ?? 0) / max) * (height - 4);
                y -= h;
                return h > 0 ? (
                  <rect key={k} className={`bar ${k}`} x={i * (barWidth + 1)} y={y} width={barWidth} height={h} />
                ) : null;
              })}
            </g>
          );
        })}
      </svg>
      <figcaption>
        {series.map((k) => (
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
