// Every visible string comes from /i18n/<lang>.json; the HTML holds only keys
// (data-i18n, data-i18n-attr), so a translator edits one file per language.

const SUPPORTED = ['sv', 'en'];
const STORAGE_KEY = 'trygg.lang';
let dict = {};
let lang = 'sv';

/** The language to use: ?lang= wins, then a page whose address names its
 * language (the accessibility statement), then the visitor's last choice. */
export function pickLanguage() {
  const q = new URLSearchParams(location.search).get('lang');
  if (SUPPORTED.includes(q)) {
    remember(q);
    return q;
  }
  const byPath = document.documentElement.dataset.langFromPath;
  if (byPath) {
    const [svPath, enPath] = byPath.split('|');
    if (location.pathname === enPath) return 'en';
    if (location.pathname === svPath) return 'sv';
  }
  let stored = null;
  try { stored = localStorage.getItem(STORAGE_KEY); } catch { /* private mode */ }
  return SUPPORTED.includes(stored) ? stored : 'sv';
}

function remember(l) {
  try { localStorage.setItem(STORAGE_KEY, l); } catch { /* private mode */ }
}

export async function loadLanguage(l) {
  const res = await fetch(`/i18n/${l}.json`);
  if (!res.ok) throw new Error(`i18n ${l}: ${res.status}`);
  dict = await res.json();
  lang = l;
  document.documentElement.lang = l;
}

export function currentLang() { return lang; }
export function locale() { return lang === 'en' ? 'en-GB' : 'sv-SE'; }

export function setLanguage(l) {
  remember(l);
}

/** Looks up "a.b.c"; `{name}` placeholders are filled from vars. A missing
 * key shows itself, so a gap in a translation is visible, not silent. */
export function t(key, vars) {
  let v = key.split('.').reduce((o, k) => (o && typeof o === 'object' ? o[k] : undefined), dict);
  if (typeof v !== 'string') return key;
  if (vars) v = v.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  return v;
}

/** Label of a vocabulary value (categories, statuses, …). */
export function term(vocab, value) {
  const v = dict.vocab?.[vocab]?.[value];
  return typeof v === 'string' ? v : value;
}

export function applyTranslations(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) {
    el.textContent = t(el.dataset.i18n);
  }
  for (const el of root.querySelectorAll('[data-i18n-attr]')) {
    for (const pair of el.dataset.i18nAttr.split(';')) {
      const [attr, key] = pair.split(':').map((s) => s.trim());
      if (attr && key) el.setAttribute(attr, t(key));
    }
  }
}

export function formatNumber(n, digits = 0) {
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits }).format(n);
}

export function formatDate(iso) {
  if (!iso) return '';
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium' }).format(new Date(iso));
}

export function formatDateTime(iso) {
  if (!iso) return '';
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'short', timeStyle: 'short' }).format(new Date(iso));
}

export function formatTime(iso) {
  if (!iso) return '';
  return new Intl.DateTimeFormat(locale(), { timeStyle: 'short' }).format(new Date(iso));
}
