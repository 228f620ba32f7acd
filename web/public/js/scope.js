// What a layer or analysis answer shows and leaves out, in words: every
// answer carries the window it used ("datetime", an interval with ".." for
// an open end) and what it left out ("omitted", a count per reason). An
// empty map must say why it is empty, and a default window must be seen.

import { t, formatNumber, formatDate } from './i18n.js';

/** "Visar 3 dec. 2025 – 3 dec. 2026." for an interval; '' without one. */
export function windowText(datetime) {
  if (typeof datetime !== 'string' || !datetime.includes('/')) return '';
  const [from, to] = datetime.split('/');
  const open = (v) => v === '..' || v === '';
  if (open(from) && open(to)) return t('scope.window.all');
  if (open(from)) return t('scope.window.until', { to: formatDate(to) });
  if (open(to)) return t('scope.window.since', { from: formatDate(from) });
  return t('scope.window.range', { from: formatDate(from), to: formatDate(to) });
}

/** One sentence per reason with something left out; `where` picks the
 * wording of the layer ('hexagons', 'points', 'analysis'). */
export function omittedText(omitted, where = 'hexagons') {
  if (!omitted || typeof omitted !== 'object') return '';
  return Object.entries(omitted)
    .filter(([, n]) => n > 0)
    .map(([reason, n]) => {
      // The most specific wording the catalogue has: this layer's, then
      // the reason's; each with a singular form ("…One") for one.
      const keys = [`scope.omitted.${where}.${reason}`, `scope.omitted.${reason}`]
        .flatMap((k) => (n === 1 ? [`${k}One`, k] : [k]));
      const vars = { n: formatNumber(n) };
      for (const k of keys) {
        const text = t(k, vars);
        if (text !== k) return text;
      }
      return keys.at(-1);
    })
    .join(' ');
}

/** Both, for a legend or a table's note. */
export function scopeText(answer, where) {
  if (!answer) return '';
  return [windowText(answer.datetime), omittedText(answer.omitted, where)].filter(Boolean).join(' ');
}
