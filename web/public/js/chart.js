// Small accessible charts built as SVG in the page (no library): the image
// has a name and a description that reads out every value, and a table with
// the same numbers follows it for anyone who would rather read.
import { t, formatNumber } from './i18n.js';
import { renderTable } from './table.js';
import { ensurePatterns, swatchSvg } from './patterns.js';

const NS = 'http://www.w3.org/2000/svg';

function svg(tag, attrs = {}, text) {
  const n = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
  if (text != null) n.textContent = text;
  return n;
}

let uid = 0;

/**
 * Horizontal grouped bars, one group per row, one bar per series. Series
 * differ in fill AND in pattern (the second is hatched and outlined), and
 * every bar carries its number, so nothing is told by colour alone.
 *
 * container: an element to fill
 * { id, title, series: [label, …], rows: [{ label, values: [n, …] }],
 *   tableColumns: [{ key, label, numeric? }], tableRows, filename }
 */
export function barChart(container, opts) {
  const { id, title, series, rows } = opts;
  ensurePatterns();
  container.replaceChildren();
  const figure = document.createElement('figure');
  figure.className = 'chart';
  figure.dataset.chart = id;
  const caption = document.createElement('figcaption');
  caption.id = `${id}-title`;
  caption.textContent = title;

  const legend = document.createElement('ul');
  legend.className = 'chart-legend';
  series.forEach((label, i) => {
    const li = document.createElement('li');
    li.append(swatchSvg(FILLS[i % FILLS.length], { stroke: '#1d4e89' }), document.createTextNode(label));
    legend.append(li);
  });

  const plot = document.createElement('div');
  plot.className = 'chart-plot';
  figure.append(caption, legend, plot);

  const details = document.createElement('details');
  details.className = 'chart-table';
  const summary = document.createElement('summary');
  summary.textContent = t('chart.showTable');
  const tableSlot = document.createElement('div');
  details.append(summary, tableSlot);
  container.append(figure, details);

  const description = rows.map((r) => `${r.label}: ${r.values.map((v, i) => `${series[i]} ${formatNumber(v)}`).join(', ')}`).join('; ');
  const draw = () => drawBars(plot, { id, title, description, series, rows });
  draw();
  // Redrawn at the new width, so the text stays the page's size.
  let timer = null;
  const onResize = () => { clearTimeout(timer); timer = setTimeout(draw, 150); };
  if (container.chartResize) window.removeEventListener('resize', container.chartResize);
  container.chartResize = onResize;
  window.addEventListener('resize', onResize);
  renderTable(tableSlot, {
    id: `${id}-table`,
    caption: title,
    columns: opts.tableColumns,
    rows: opts.tableRows,
    filename: opts.filename,
  });
}

// Series 0: solid dark; series 1: light with dark hatching, both outlined.
const FILLS = ['#1d4e89', 'url(#pat-series-2)'];

function bar(i, x, y, w, h) {
  return svg('rect', { x, y, width: w, height: h, fill: FILLS[i % FILLS.length], stroke: '#1d4e89', 'stroke-width': 1 });
}

function drawBars(plot, { id, title, description, series, rows }) {
  uid += 1;
  const width = Math.max(280, Math.min(760, plot.clientWidth || 640));
  const labelW = Math.min(170, Math.round(width * 0.34));
  const valueW = 44;
  const barH = 14;
  const gap = 3;
  const groupGap = 12;
  const groupH = series.length * barH + (series.length - 1) * gap;
  const height = rows.length * (groupH + groupGap) + 8;
  const max = Math.max(1, ...rows.flatMap((r) => r.values));
  const scale = (width - labelW - valueW - 8) / max;
  const root = svg('svg', {
    width, height, viewBox: `0 0 ${width} ${height}`, role: 'img',
    'aria-labelledby': `chart-t-${uid} chart-d-${uid}`,
  });
  root.append(svg('title', { id: `chart-t-${uid}` }, title), svg('desc', { id: `chart-d-${uid}` }, description));
  rows.forEach((r, gi) => {
    const y0 = 4 + gi * (groupH + groupGap);
    root.append(svg('text', {
      x: labelW - 8, y: y0 + groupH / 2 + 5, 'text-anchor': 'end', 'font-size': 14, fill: '#111827',
    }, r.label));
    r.values.forEach((v, si) => {
      const y = y0 + si * (barH + gap);
      const w = Math.max(v > 0 ? 2 : 0, v * scale);
      root.append(bar(si, labelW, y, w, barH));
      root.append(svg('text', {
        x: labelW + w + 4, y: y + barH - 2, 'font-size': 12, fill: '#111827',
      }, formatNumber(v)));
    });
  });
  // The axis: a quiet line where the bars start.
  root.append(svg('line', { x1: labelW, y1: 0, x2: labelW, y2: height, stroke: '#4b5563', 'stroke-width': 1 }));
  root.dataset.chart = id;
  plot.replaceChildren(root);
}

/** Incidents by category this period against the same period a year
 * earlier, from a follow-up's `figures.incidents`. */
export function incidentChart(container, incidents, { id, periodLabel, vocab }) {
  const cats = Object.entries(incidents.by_category || {})
    .sort((a, b) => b[1].current - a[1].current || a[0].localeCompare(b[0]));
  const rows = cats.map(([c, y]) => ({ label: vocab(c), values: [y.current, y.year_before] }));
  barChart(container, {
    id,
    title: t('chart.incidentsTitle', { period: periodLabel }),
    series: [periodLabel, t('chart.yearBefore')],
    rows,
    tableColumns: [
      { key: 'category', label: t('chart.category') },
      { key: 'current', label: periodLabel, numeric: true },
      { key: 'year_before', label: t('chart.yearBefore'), numeric: true },
      { key: 'change', label: t('chart.change'), numeric: true, format: (v) => (v > 0 ? `+${formatNumber(v)}` : formatNumber(v)) },
    ],
    tableRows: [
      ...cats.map(([c, y]) => ({ category: vocab(c), ...y })),
      { category: t('chart.total'), ...incidents.total },
    ],
    filename: `trygg-incidents-${id}.csv`,
  });
}
