// SVG fill patterns shared by the charts and the map's hot-spot layer, so
// that a category is told by pattern as well as by colour. They live in one
// hidden <svg> in the page; any SVG in the document (Leaflet's included)
// can fill with url(#id).

const NS = 'http://www.w3.org/2000/svg';

// id: [background, mark colour, mark: 'hatch' | 'dots' | 'cross', spacing]
export const PATTERNS = {
  'pat-series-2': ['#c9d8ec', '#1d4e89', 'hatch', 5],
  'pat-hot-3': ['#b2182b', '#ffffff', 'hatch', 5],
  'pat-hot-2': ['#ef8a62', '#4a0d12', 'hatch', 8],
  'pat-cold-2': ['#67a9cf', '#0b2545', 'dots', 7],
  'pat-cold-3': ['#2166ac', '#ffffff', 'dots', 5],
};

export function ensurePatterns() {
  if (document.getElementById('trygg-patterns')) return;
  const root = document.createElementNS(NS, 'svg');
  root.id = 'trygg-patterns';
  root.setAttribute('class', 'pattern-defs');
  root.setAttribute('aria-hidden', 'true');
  root.setAttribute('focusable', 'false');
  root.setAttribute('width', '0');
  root.setAttribute('height', '0');
  const defs = document.createElementNS(NS, 'defs');
  for (const [id, [bg, fg, mark, s]] of Object.entries(PATTERNS)) {
    const p = document.createElementNS(NS, 'pattern');
    p.id = id;
    p.setAttribute('patternUnits', 'userSpaceOnUse');
    p.setAttribute('width', String(s));
    p.setAttribute('height', String(s));
    if (mark === 'hatch') p.setAttribute('patternTransform', 'rotate(45)');
    const rect = document.createElementNS(NS, 'rect');
    rect.setAttribute('width', String(s));
    rect.setAttribute('height', String(s));
    rect.setAttribute('fill', bg);
    p.append(rect);
    if (mark === 'hatch') {
      const line = document.createElementNS(NS, 'line');
      line.setAttribute('x1', '0'); line.setAttribute('y1', '0');
      line.setAttribute('x2', '0'); line.setAttribute('y2', String(s));
      line.setAttribute('stroke', fg);
      line.setAttribute('stroke-width', '2');
      p.append(line);
    } else {
      const c = document.createElementNS(NS, 'circle');
      c.setAttribute('cx', String(s / 2)); c.setAttribute('cy', String(s / 2));
      c.setAttribute('r', String(Math.max(1, s / 5)));
      c.setAttribute('fill', fg);
      p.append(c);
    }
    defs.append(p);
  }
  root.append(defs);
  document.body.append(root);
}

/** A small legend swatch (inline SVG) in a fill, which may be url(#…). */
export function swatchSvg(fill, { width = 22, height = 14, stroke = '#1f2937' } = {}) {
  ensurePatterns();
  const s = document.createElementNS(NS, 'svg');
  s.setAttribute('width', String(width));
  s.setAttribute('height', String(height));
  s.setAttribute('aria-hidden', 'true');
  s.setAttribute('focusable', 'false');
  s.setAttribute('class', 'swatch-svg');
  const r = document.createElementNS(NS, 'rect');
  r.setAttribute('x', '0.5'); r.setAttribute('y', '0.5');
  r.setAttribute('width', String(width - 1)); r.setAttribute('height', String(height - 1));
  r.setAttribute('fill', fill);
  r.setAttribute('stroke', stroke);
  s.append(r);
  return s;
}
