/**
 * Time-series charts (uPlot, drawn on a canvas). Message counts are shown as sampled; message
 * rates are computed from consecutive cumulative counters, as RabbitMQ's UI does with the API's
 * `samples`. The range (last minute … last day) is one choice for all charts, kept in localStorage.
 */
import uPlot from 'uplot';
import { useEffect, useRef, useState } from 'preact/hooks';
import { SelectField } from './components.js';
import { num } from './format.js';

export interface Sample {
  sample: number;
  timestamp: number;
}

export interface Details {
  rate?: number;
  samples?: Sample[];
}

export interface Range {
  label: string;
  age: number;
  incr: number;
}

export const RANGES: Range[] = [
  { label: 'Last minute', age: 60, incr: 5 },
  { label: 'Last ten minutes', age: 600, incr: 5 },
  { label: 'Last hour', age: 3600, incr: 60 },
  { label: 'Last eight hours', age: 28800, incr: 600 },
  { label: 'Last day', age: 86400, incr: 1800 },
];

const RANGE_KEY = 'warren-chart-range';

export function useRange(): [Range, (label: string) => void] {
  const [label, setLabel] = useState(() => localStorage.getItem(RANGE_KEY) ?? RANGES[0]!.label);
  const range = RANGES.find((r) => r.label === label) ?? RANGES[0]!;
  return [
    range,
    (l: string) => {
      localStorage.setItem(RANGE_KEY, l);
      setLabel(l);
    },
  ];
}

export function rangeQuery(r: Range): string {
  return `lengths_age=${r.age}&lengths_incr=${r.incr}&msg_rates_age=${r.age}&msg_rates_incr=${r.incr}`;
}

export function RangeSelect(props: { range: Range; onChange: (label: string) => void }) {
  return <SelectField label="Chart range:" value={props.range.label} options={RANGES.map((r) => r.label)} onChange={props.onChange} />;
}

export interface Series {
  label: string;
  details: Details | undefined;
}

const COLORS = ['#e8a33d', '#4d8fd6', '#58b368', '#c2564b', '#9a6fd1', '#3fb5b0', '#d1689a', '#8a8a3a'];

/** Oldest first: [times (s)], [values]. Rates from counters when `rates` is set. */
function toPoints(samples: Sample[] | undefined, rates: boolean): [number[], number[]] {
  const s = [...(samples ?? [])].reverse();
  if (!rates) return [s.map((x) => x.timestamp / 1000), s.map((x) => x.sample)];
  const t: number[] = [];
  const v: number[] = [];
  for (let i = 1; i < s.length; i++) {
    const dt = (s[i]!.timestamp - s[i - 1]!.timestamp) / 1000;
    if (dt <= 0) continue;
    t.push(s[i]!.timestamp / 1000);
    v.push(Math.max(0, (s[i]!.sample - s[i - 1]!.sample) / dt));
  }
  return [t, v];
}

/** One x axis for all series (the union of their timestamps; a missing point is a gap). */
function align(series: [number[], number[]][]): uPlot.AlignedData {
  const times = [...new Set(series.flatMap(([t]) => t))].sort((a, b) => a - b);
  const index = new Map(times.map((t, i) => [t, i]));
  const columns = series.map(([t, v]) => {
    const col: (number | null)[] = new Array<number | null>(times.length).fill(null);
    t.forEach((x, i) => {
      col[index.get(x)!] = v[i]!;
    });
    return col;
  });
  return [times, ...columns];
}

export function Chart(props: { title: string; series: Series[]; rates: boolean; range: Range }) {
  const box = useRef<HTMLDivElement>(null);
  // The x axis always spans the chosen range, ending now, however few samples there are yet.
  const age = useRef(props.range.age);
  age.current = props.range.age;
  const plot = useRef<uPlot | undefined>(undefined);
  const points = props.series.map((s) => toPoints(s.details?.samples, props.rates));
  const data = align(points);
  const labels = props.series.map((s) => s.label).join('\u0000');

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const color = getComputedStyle(el).color;
    const grid = getComputedStyle(el).getPropertyValue('--grid').trim() || 'rgba(128,128,128,0.2)';
    const axis = { stroke: color, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const opts: uPlot.Options = {
      width: Math.max(el.clientWidth, 200),
      height: 180,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true, range: () => { const now = Date.now() / 1000; return [now - age.current, now]; } }, y: { range: (_u, _min, max) => [0, Math.max(max, 1) * 1.1] } },
      axes: [axis, { ...axis, size: 60, values: (_u, ticks) => ticks.map((t) => num(t)) }],
      series: [{}, ...props.series.map((s, i) => ({ label: s.label, stroke: COLORS[i % COLORS.length]!, width: 2, spanGaps: true }))],
    };
    const u = new uPlot(opts, data, el);
    plot.current = u;
    const resize = new ResizeObserver(() => u.setSize({ width: Math.max(el.clientWidth, 200), height: 180 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = undefined;
    };
  }, [labels]);

  useEffect(() => {
    plot.current?.setData(data);
  });

  const latest = points.map(([, v]) => v[v.length - 1]);
  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      <div class="chart-canvas" ref={box} role="img" aria-label={`${props.title} chart`} data-points={String(data[0].length)} />
      <ul class="legend">
        {props.series.map((s, i) => (
          <li key={s.label}>
            <span class="swatch" style={{ background: COLORS[i % COLORS.length] }} aria-hidden="true" />
            {s.label} <strong>{props.rates ? `${num(latest[i] ?? s.details?.rate ?? 0)}/s` : num(latest[i] ?? 0)}</strong>
          </li>
        ))}
      </ul>
    </figure>
  );
}
