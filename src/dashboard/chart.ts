// The 30-day chart as inline SVG drawn on the server: clicks and conversions per day in two
// panels over one shared day axis (their scales differ by orders of magnitude, so one axis
// each rather than a misleading shared one). Hovering a bar shows its day and value through
// SVG <title>, with no script. Styling comes from the page's stylesheet (classes only).
import type { DayTotals } from './data';
import { html, type SafeHtml } from './html';

const WIDTH = 1100;
const HEIGHT = 262;
const LEFT = 56;
const RIGHT = 8;
const PLOT_WIDTH = WIDTH - LEFT - RIGHT;
const BAR_SHARE = 0.64;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

interface Panel {
  key: 'clicks' | 'conversions';
  title: string;
  unit: [one: string, many: string];
  top: number;
  height: number;
}

const PANELS: Panel[] = [
  { key: 'clicks', title: 'Clicks per day', unit: ['click', 'clicks'], top: 30, height: 116 },
  {
    key: 'conversions',
    title: 'Conversions per day (pending + approved)',
    unit: ['conversion', 'conversions'],
    top: 182,
    height: 50,
  },
];

/** The smallest of 1, 2, 4, 5 x 10^k that is >= value (1 for an empty series). */
export function niceCeiling(value: number): number {
  if (value <= 1) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const factor of [1, 2, 4, 5, 10]) {
    if (factor * magnitude >= value) return factor * magnitude;
  }
  return 10 * magnitude;
}

/** "Nov 23" for '2026-11-23'. */
export function shortDay(day: string): string {
  return `${MONTHS[Number(day.slice(5, 7)) - 1]} ${Number(day.slice(8, 10))}`;
}

const count = new Intl.NumberFormat('en-US');
const px = (n: number) => Math.round(n * 10) / 10;

function panel(days: DayTotals[], p: Panel): SafeHtml {
  const band = PLOT_WIDTH / days.length;
  const barWidth = band * BAR_SHARE;
  const max = niceCeiling(Math.max(0, ...days.map((d) => d[p.key])));
  const baseline = p.top + p.height;
  const ticks = max % 2 === 0 ? [0, max / 2, max] : [0, max];
  const grid = ticks.map((tick) => {
    const y = px(baseline - (tick / max) * p.height);
    return html`<line class="grid" x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${y}" y2="${y}"></line><text class="tick" x="${LEFT - 6}" y="${px(y + 4)}" text-anchor="end">${count.format(tick)}</text>`;
  });
  const bars = days.map((d, i) => {
    const value = d[p.key];
    if (value === 0) return null;
    const height = Math.max(1, (value / max) * p.height);
    const x = px(LEFT + i * band + (band - barWidth) / 2);
    return html`<rect class="bar bar-${p.key}" x="${x}" y="${px(baseline - height)}" width="${px(barWidth)}" height="${px(height)}"><title>${shortDay(d.day)}: ${count.format(value)} ${value === 1 ? p.unit[0] : p.unit[1]}</title></rect>`;
  });
  return html`<g class="panel" data-series="${p.key}"><text class="panel-title" x="${LEFT}" y="${p.top - 12}">${p.title}</text>${grid}${bars}</g>`;
}

export function renderChart(days: DayTotals[]): SafeHtml {
  const band = PLOT_WIDTH / days.length;
  const labelEvery = 7;
  // Label today (the last day) and every 7th day before it.
  const labels = days.map((d, i) =>
    (days.length - 1 - i) % labelEvery === 0
      ? html`<text class="day" x="${px(LEFT + i * band + band / 2)}" y="${HEIGHT - 8}" text-anchor="middle">${shortDay(d.day)}</text>`
      : null,
  );
  const first = days[0]?.day ?? '';
  const last = days.at(-1)?.day ?? '';
  return html`<svg class="chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-labelledby="chart-title chart-desc" xmlns="http://www.w3.org/2000/svg"><title id="chart-title">Clicks and conversions per day, ${first} to ${last} (UTC)</title><desc id="chart-desc">Two bar charts over the same ${days.length} days; the table below the chart lists the same numbers.</desc>${PANELS.map((p) => panel(days, p))}${labels}</svg>`;
}
