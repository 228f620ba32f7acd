// Months as the follow-up names them (`YYYY-MM`), in the visitor's local
// calendar: a Swedish month, not a UTC one.
import { locale } from './i18n.js';

const z = (n) => String(n).padStart(2, '0');

export function periodOf(d) {
  return `${d.getFullYear()}-${z(d.getMonth() + 1)}`;
}

/** The last month that has ended: the usual follow-up period. */
export function lastMonth(now = new Date()) {
  return periodOf(new Date(now.getFullYear(), now.getMonth() - 1, 1));
}

export function currentMonth(now = new Date()) {
  return periodOf(now);
}

/** `n` months, newest first, starting with the current one. */
export function recentMonths(n, now = new Date()) {
  return Array.from({ length: n }, (_, i) => periodOf(new Date(now.getFullYear(), now.getMonth() - i, 1)));
}

export function isPeriod(s) {
  return /^\d{4}-(0[1-9]|1[0-2])$/.test(s || '');
}

export function monthName(period) {
  const [y, m] = period.split('-').map(Number);
  return new Intl.DateTimeFormat(locale(), { month: 'long', year: 'numeric' }).format(new Date(y, m - 1, 1));
}

export function isoDate(d) {
  return `${d.getFullYear()}-${z(d.getMonth() + 1)}-${z(d.getDate())}`;
}

/** A path and query from an absolute link the server wrote, so the page
 * never follows a host other than its own. */
export function localPath(href) {
  const u = new URL(href, location.origin);
  return u.pathname + u.search;
}
