// What every page shares: language, header, service worker, and the
// "ready" mark the browser tests wait for.
import { applyTranslations, loadLanguage, pickLanguage, setLanguage, currentLang, t, term } from './i18n.js';
import { session, logout } from './api.js';
import { onNetChange } from './net.js';

/**
 * Sets up the page and asks who is logged in. Returns { user, offline }:
 * `user` is null when nobody is; `offline` when the server could not be
 * asked (the field page then works from its outbox).
 * Pages that need a login get a notice instead of their content.
 */
/** Where a session that must set up a second factor is sent. */
export const SECOND_FACTOR_PAGE = '/tvastegsverifiering';

export async function startPage({ needsLogin = true, publicPage = false, enrolPage = false } = {}) {
  await loadLanguage(pickLanguage());
  renderHeader();
  applyTranslations();
  markCurrentNav();
  wireLanguageSelect();
  // A public page embedded on another site asks about no session and
  // installs nothing in its visitors' browsers.
  if (publicPage) return { lang: currentLang(), user: null, offline: false };
  registerServiceWorker();
  let user = null;
  let offline = false;
  try {
    const s = await session();
    user = s?.user || null;
    const factor = s?.second_factor;
    if (factor?.required && !factor.enrolled && !enrolPage) {
      // Every other call would be refused until the factor is set up.
      location.replace(`${SECOND_FACTOR_PAGE}?next=${encodeURIComponent(location.pathname + location.search)}`);
      return new Promise(() => {});
    }
  } catch {
    offline = true;
  }
  renderLogin(user, offline);
  if (user?.role === 'admin') addAdminNav();
  if (offline) {
    // Opened without a connection: say who is logged in once it is back.
    let asked = false;
    onNetChange((online) => {
      if (!online || asked) return;
      asked = true;
      session().then((s) => renderLogin(s?.user || null, false)).catch(() => { asked = false; });
    });
  }
  if (needsLogin && !user && !offline) showLoginRequired();
  return { lang: currentLang(), user, offline };
}

/**
 * Where to go after logging in (or setting up a second factor): only a page
 * of this site. The browser's own URL parser decides, not a look at the
 * text: it drops tabs and newlines and reads a backslash as a slash, so
 * `/\t/evil.example` is another site.
 */
export function nextPath() {
  const asked = new URLSearchParams(location.search).get('next') || '/map';
  let url;
  try {
    url = new URL(asked, location.origin);
  } catch {
    return '/map';
  }
  if (url.origin !== location.origin || url.pathname.startsWith('//')) return '/map';
  return `${url.pathname}${url.search}${url.hash}`;
}

export function loginHref() {
  return `/login?next=${encodeURIComponent(location.pathname + location.search)}`;
}

function renderLogin(user, offline) {
  const slot = document.getElementById('login-slot');
  if (!slot) return;
  slot.replaceChildren();
  if (user) {
    // The name leads to the account page (own API tokens).
    const who = document.createElement('a');
    who.className = 'who';
    who.href = '/konto';
    who.dataset.testid = 'who';
    const detail = document.createElement('span');
    detail.className = 'who-detail';
    detail.textContent = ` ${t('login.detail', { role: term('role', user.role), org: user.organisation || '' })}`;
    const hint = document.createElement('span');
    hint.className = 'visually-hidden';
    hint.textContent = ` – ${t('account.link')}`;
    who.append(user.display_name || user.username, detail, hint);
    const out = document.createElement('button');
    out.type = 'button';
    out.className = 'button small on-brand';
    out.textContent = t('login.logout');
    out.addEventListener('click', async () => {
      await logout().catch(() => null);
      location.assign('/login');
    });
    slot.append(who, out);
  } else if (!offline && location.pathname !== '/login') {
    const a = document.createElement('a');
    a.className = 'button small on-brand';
    a.href = loginHref();
    a.textContent = t('login.link');
    slot.append(a);
  }
}

/** Hides what needs data and says how to get in. */
function showLoginRequired() {
  const main = document.getElementById('main');
  if (!main) return;
  for (const child of main.children) {
    if (child.tagName !== 'H1') child.hidden = true;
  }
  const h1 = main.querySelector('h1');
  if (h1) h1.classList.remove('visually-hidden');
  const box = document.createElement('div');
  box.className = 'card login-required';
  const p = document.createElement('p');
  p.textContent = t('login.required');
  const a = document.createElement('a');
  a.className = 'button';
  a.href = loginHref();
  a.textContent = t('login.link');
  box.append(p, a);
  main.append(box);
  markReady();
}

export function markReady() {
  document.documentElement.dataset.ready = 'true';
}

/** Administration is a link only admins see; the page itself also says
 * "admins only" to anyone else, and the API refuses them. */
function addAdminNav() {
  const list = document.querySelector('.site-nav ul');
  if (!list || list.querySelector('a[href="/administration"]')) return;
  const a = document.createElement('a');
  a.href = '/administration';
  a.dataset.altHref = '/admin';
  a.textContent = t('nav.admin');
  const li = document.createElement('li');
  li.append(a);
  list.append(li);
  markCurrentNav();
}

function markCurrentNav() {
  const here = location.pathname === '/' ? '/map' : location.pathname;
  for (const a of document.querySelectorAll('.site-nav a')) {
    const target = a.getAttribute('href');
    const alt = a.dataset.altHref;
    if (target === here || alt === here) a.setAttribute('aria-current', 'page');
  }
}

function wireLanguageSelect() {
  const select = document.getElementById('lang-select');
  if (!select) return;
  select.value = currentLang();
  select.addEventListener('change', () => {
    setLanguage(select.value);
    // The statement has one address per language; elsewhere a reload in
    // the chosen language keeps every module's strings consistent.
    const url = new URL(location.href);
    url.searchParams.delete('lang');
    if (url.pathname === '/tillganglighet' || url.pathname === '/accessibility') {
      url.pathname = select.value === 'en' ? '/accessibility' : '/tillganglighet';
    }
    location.assign(url.toString());
  });
}

function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.register('/sw.js').catch(() => {
    // Without a service worker the pages still work online.
  });
}

/** Shows a message in the page's status line (a polite live region). */
export function announce(text) {
  const el = document.getElementById('status');
  if (el) el.textContent = text;
}

const NAV = [
  { href: '/map', key: 'nav.map', alt: '/' },
  { href: '/analys', key: 'nav.analysis', alt: '/analysis' },
  { href: '/uppfoljning', key: 'nav.followup', alt: '/followup' },
  { href: '/field', key: 'nav.field' },
  { href: '/measures', key: 'nav.measures' },
  { href: '/tillganglighet', key: 'nav.statement', alt: '/accessibility' },
];

/** One header for every page, built here so the pages cannot drift apart. */
function renderHeader() {
  const header = document.getElementById('site-header');
  if (!header) return;
  const el = (tag, attrs = {}, children = []) => {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
    n.append(...children);
    return n;
  };
  const brand = el('a', { class: 'brand', href: '/map' }, [
    el('img', { src: '/icon.svg', alt: '', width: '28', height: '28' }),
    el('span', { 'data-i18n': 'app.name' }),
  ]);
  const list = el('ul');
  for (const item of NAV) {
    const a = el('a', { href: item.href, 'data-i18n': item.key });
    if (item.alt) a.dataset.altHref = item.alt;
    list.append(el('li', {}, [a]));
  }
  const nav = el('nav', { class: 'site-nav', 'data-i18n-attr': 'aria-label:nav.label' }, [list]);
  const select = el('select', { id: 'lang-select' }, [
    el('option', { value: 'sv', lang: 'sv', 'data-i18n': 'lang.sv' }),
    el('option', { value: 'en', lang: 'en', 'data-i18n': 'lang.en' }),
  ]);
  const langBox = el('div', { class: 'lang' }, [
    el('label', { for: 'lang-select', 'data-i18n': 'nav.language' }),
    select,
  ]);
  // LOGIN SLOT. Accounts arrive with their own issue: sign-in and the user
  // menu go here, and nothing else in the header has to move.
  const login = el('div', { id: 'login-slot', class: 'login-slot', 'data-slot': 'login' });
  header.append(brand, nav, el('div', { class: 'header-tools' }, [langBox]), login);
}
