// The monthly follow-up as planners read it: the period's figures, the
// server's image, downloads, corrections once published, and publishing
// (for users with the publish permission) after a confirmation step.
import { startPage, markReady, announce } from './shell.js';
import { t, term, formatNumber, formatDateTime } from './i18n.js';
import { getJson, postJson } from './api.js';
import { renderTable } from './table.js';
import { incidentChart } from './chart.js';
import { currentMonth, isPeriod, lastMonth, monthName, recentMonths } from './period.js';

const query = new URLSearchParams(location.search);
const state = {
  period: isPeriod(query.get('period')) ? query.get('period') : lastMonth(),
  user: null,
  data: null,
};

const sum = (o) => Object.values(o || {}).reduce((a, b) => a + b, 0);
const signed = (v) => (v > 0 ? `+${formatNumber(v)}` : formatNumber(v));

function fillPeriods() {
  const select = document.getElementById('period');
  const now = currentMonth();
  const months = recentMonths(25);
  if (!months.includes(state.period)) months.push(state.period);
  select.replaceChildren(...months.map((m) => {
    const o = document.createElement('option');
    o.value = m;
    o.textContent = m === now ? t('followup.ongoing', { month: monthName(m) }) : monthName(m);
    return o;
  }));
  select.value = state.period;
}

async function load() {
  const period = state.period;
  const main = document.getElementById('main');
  main.setAttribute('aria-busy', 'true');
  try {
    const data = await getJson(`/api/v1/followup/${period}`);
    if (period !== state.period) return;
    state.data = data;
    render();
  } catch (e) {
    announce(t('map.loadError', { detail: e.message }));
  } finally {
    main.removeAttribute('aria-busy');
  }
}

function render() {
  const d = state.data;
  const f = d.figures;
  const month = monthName(d.period);
  document.title = `${t('followup.heading')} ${month} – Trygg`;
  document.getElementById('figures-heading').textContent = t('followup.figures', { month });
  renderPublish();
  renderDownloads();
  renderCorrections();

  const keys = [
    ['presence', t('followup.key.presence', { h: formatNumber(f.presence.hours, 1), places: formatNumber(f.presence.hours_at_places, 1) })],
    ['measures', t('followup.key.measures', { done: formatNumber(sum(f.measures.done)), closed: formatNumber(sum(f.measures.closed_without_being_done)), rejected: formatNumber(sum(f.measures.rejected)), open: formatNumber(sum(f.measures.open_at_end)) })],
    ['incidents', t('followup.key.incidents', { n: formatNumber(f.incidents.total.current), before: formatNumber(f.incidents.total.year_before), change: signed(f.incidents.total.change) })],
    ['reports', t('followup.key.reports', { n: formatNumber(f.reports.received), handled: formatNumber(f.reports.handled) })],
  ];
  const places = Object.values(f.places || {});
  if (places.length) {
    const met = places.filter((p) => p.target_visits != null && p.visits >= p.target_visits).length;
    const withTarget = places.filter((p) => p.target_visits != null).length;
    keys.push(['places', t('followup.key.places', { n: formatNumber(places.length), met: formatNumber(met), target: formatNumber(withTarget) })]);
  }
  document.getElementById('key-figures').replaceChildren(...keys.map(([k, text]) => {
    const li = document.createElement('li');
    li.dataset.key = k;
    li.textContent = text;
    return li;
  }));
  document.querySelector('[data-key="incidents"]').dataset.count = String(f.incidents.total.current);

  incidentChart(document.getElementById('incident-chart'), f.incidents, {
    id: 'followup-incidents',
    periodLabel: month,
    vocab: (c) => term('incidentCategory', c),
  });

  const img = document.getElementById('followup-image');
  img.src = `/api/v1/followup/${d.period}?format=svg`;
  img.alt = t('followup.image.alt', { month });

  renderTable(document.getElementById('places-table'), {
    id: 'table-followup-places',
    caption: t('followup.places.caption', { month }),
    columns: [
      { key: 'name', label: t('analysis.dosage.place') },
      { key: 'visits', label: t('analysis.dosage.visits'), numeric: true },
      { key: 'target_visits', label: t('analysis.dosage.target'), numeric: true, format: (v) => (v == null ? '–' : formatNumber(v, 1)) },
      { key: 'against', label: t('followup.places.against'), format: (v, r) => againstText(r), csv: (v, r) => (r.target_visits ? (r.visits / r.target_visits).toFixed(3) : '') },
      { key: 'total_minutes', label: t('analysis.dosage.minutes'), numeric: true, format: (v) => formatNumber(Math.round(v) || 0, 0) },
      { key: 'median_minutes', label: t('analysis.dosage.median'), numeric: true, format: (v) => (v == null ? '–' : formatNumber(v, 1)) },
      { key: 'koper_share', label: t('analysis.dosage.koper'), numeric: true, format: (v) => (v == null ? '–' : `${formatNumber(v * 100, 0)} %`) },
      { key: 'longest_gap_h', label: t('analysis.dosage.gap'), numeric: true, format: (v) => (v == null ? '–' : formatNumber(v, 0)) },
    ],
    rows: places,
    filename: `trygg-followup-places-${d.period}.csv`,
  });

  renderTable(document.getElementById('presence-table'), {
    id: 'table-followup-presence',
    caption: t('followup.presence.caption', { h: formatNumber(f.presence.hours, 1) }),
    columns: [
      { key: 'unit', label: t('followup.presence.unit') },
      { key: 'hours', label: t('followup.presence.hours'), numeric: true, format: (v) => formatNumber(v, 1) },
    ],
    rows: Object.entries(f.presence.hours_by_unit_type || {}).map(([u, h]) => ({ unit: term('unitType', u), hours: h })).sort((a, b) => b.hours - a.hours),
    filename: `trygg-followup-presence-${d.period}.csv`,
  });

  const kinds = ['lighting', 'vegetation', 'cleaning', 'graffiti', 'camera', 'other'];
  const m = f.measures;
  renderTable(document.getElementById('measures-table'), {
    id: 'table-followup-measures',
    caption: t('followup.measures.caption', { month }),
    columns: [
      { key: 'kind', label: t('measures.kind') },
      { key: 'done', label: t('followup.measures.done'), numeric: true },
      { key: 'closed', label: t('followup.measures.closed'), numeric: true },
      { key: 'rejected', label: t('followup.measures.rejected'), numeric: true },
      { key: 'open', label: t('followup.measures.open'), numeric: true },
    ],
    rows: kinds.map((k) => ({
      kind: term('measureKind', k),
      done: m.done[k] || 0,
      closed: m.closed_without_being_done[k] || 0,
      rejected: m.rejected[k] || 0,
      open: m.open_at_end[k] || 0,
    })),
    filename: `trygg-followup-measures-${d.period}.csv`,
  });

  const r = f.reports;
  document.getElementById('reports-text').textContent = t('followup.reports.text', {
    n: formatNumber(r.received), handled: formatNumber(r.handled), approved: formatNumber(r.approved), rejected: formatNumber(r.rejected),
  });
  renderTable(document.getElementById('reports-table'), {
    id: 'table-followup-reports',
    caption: t('followup.reports.caption'),
    columns: [
      { key: 'source', label: t('followup.reports.source') },
      { key: 'n', label: t('followup.reports.count'), numeric: true },
    ],
    rows: Object.entries(r.received_by_source || {}).map(([s, n]) => ({ source: term('reportSource', s), n })),
    filename: `trygg-followup-reports-${d.period}.csv`,
  });

  const g = f.groups;
  const groupsRoot = document.getElementById('groups-table');
  if (!g) {
    // Shown only for ended periods of one length (yearly by default), so
    // that no period minus another reveals a small group.
    const p = document.createElement('p');
    p.textContent = t('followup.groups.notShown');
    groupsRoot.replaceChildren(p);
    return;
  }
  const rows = [];
  for (const [split, vocab] of [['by_gender', 'gender'], ['by_age_band', 'ageBand'], ['by_lgbtq', 'lgbtq']]) {
    for (const [k, row] of Object.entries(g[split] || {})) {
      const suppressed = row.reports === 'suppressed';
      rows.push({
        group: `${t(`followup.groups.${split}`)}: ${term(vocab, k)}`,
        reports: suppressed ? null : row.reports,
        shown: suppressed ? t('followup.groups.suppressed') : formatNumber(row.reports),
        score: row.mean_overall_score,
      });
    }
  }
  renderTable(groupsRoot, {
    id: 'table-followup-groups',
    caption: t('followup.groups.caption', { n: formatNumber(g.total) }),
    columns: [
      { key: 'group', label: t('followup.groups.group') },
      { key: 'reports', label: t('followup.groups.reports'), numeric: true, format: (v, row) => row.shown, csv: (v) => (v == null ? 'suppressed' : v) },
      { key: 'score', label: t('followup.groups.score'), numeric: true, format: (v) => (v == null ? '–' : formatNumber(v, 1)) },
    ],
    rows,
    filename: `trygg-followup-groups-${d.period}.csv`,
  });
}

function againstText(r) {
  if (r.target_visits == null || r.target_visits === 0) return t('followup.places.noTarget');
  const share = r.visits / r.target_visits;
  return t('followup.places.share', { pct: formatNumber(share * 100, 0), state: t(share >= 1 ? 'followup.places.met' : 'followup.places.under') });
}

function ended(period) {
  return period < currentMonth();
}

function renderPublish() {
  const d = state.data;
  const heading = document.getElementById('publish-heading');
  const text = document.getElementById('publish-state');
  const start = document.getElementById('publish-start');
  const card = document.querySelector('[data-testid="publish-card"]');
  document.getElementById('publish-confirm').hidden = true;
  document.getElementById('publish-error').textContent = '';
  heading.textContent = t('followup.publish.heading');
  const published = Boolean(d.published_at);
  card.dataset.published = String(published);
  card.classList.toggle('is-published', published);
  if (published) {
    text.textContent = t('followup.publish.done', { at: formatDateTime(d.published_at) });
  } else if (!ended(d.period)) {
    text.textContent = t('followup.publish.notEnded');
  } else {
    text.textContent = t(state.user?.can_publish ? 'followup.publish.notYet' : 'followup.publish.notYetNoRight');
  }
  start.hidden = !(state.user?.can_publish && !published && ended(d.period));
}

function renderDownloads() {
  const p = state.data.period;
  const links = [
    [`/api/v1/followup/${p}?format=csv`, 'followup.download.csv', `trygg-uppfoljning-${p}.csv`],
    [`/api/v1/followup/${p}?format=html`, 'followup.download.html', null],
    [`/api/v1/followup/${p}?format=svg`, 'followup.download.svg', `trygg-uppfoljning-${p}.svg`],
    [`/api/v1/followup/${p}`, 'followup.download.json', `trygg-uppfoljning-${p}.json`],
  ];
  if (state.data.published_at) {
    links.push(
      [`/api/v1/public/followup/${p}?format=html`, 'followup.download.publicHtml', null],
      ['/api/v1/public/followup.atom', 'followup.download.atom', null],
    );
  }
  document.getElementById('downloads').replaceChildren(...links.map(([href, key, file]) => {
    const li = document.createElement('li');
    const a = document.createElement('a');
    a.href = href;
    a.textContent = t(key);
    if (file) a.download = file;
    li.append(a);
    return li;
  }));
}

function renderCorrections() {
  const section = document.getElementById('corrections-section');
  const list = state.data.corrections || [];
  section.hidden = !state.data.published_at;
  section.dataset.count = String(list.length);
  const root = document.getElementById('corrections');
  if (!list.length) {
    const p = document.createElement('p');
    p.textContent = t('followup.corrections.none');
    root.replaceChildren(p);
    return;
  }
  const show = (v) => (v == null ? '–' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  renderTable(root, {
    id: 'table-corrections',
    caption: t('followup.corrections.heading'),
    columns: [
      { key: 'field', label: t('followup.corrections.field') },
      { key: 'published', label: t('followup.corrections.published'), format: show, csv: show },
      { key: 'current', label: t('followup.corrections.current'), format: show, csv: show },
    ],
    rows: list,
    filename: `trygg-corrections-${state.data.period}.csv`,
  });
}

function wirePublish() {
  const start = document.getElementById('publish-start');
  const confirm = document.getElementById('publish-confirm');
  const question = document.getElementById('publish-question');
  const error = document.getElementById('publish-error');
  start.addEventListener('click', () => {
    question.textContent = t('followup.publish.question', { month: monthName(state.data.period) });
    confirm.hidden = false;
    start.hidden = true;
    question.focus();
  });
  document.getElementById('publish-no').addEventListener('click', () => {
    confirm.hidden = true;
    start.hidden = false;
    start.focus();
  });
  document.getElementById('publish-yes').addEventListener('click', async () => {
    error.textContent = '';
    const yes = document.getElementById('publish-yes');
    yes.disabled = true;
    try {
      await postJson(`/api/v1/followup/${state.data.period}/publish`);
      announce(t('followup.publish.announced', { month: monthName(state.data.period) }));
      await load();
      document.getElementById('publish-heading').setAttribute('tabindex', '-1');
      document.getElementById('publish-heading').focus();
    } catch (e) {
      error.textContent = t('form.serverError', { detail: e.message });
    } finally {
      yes.disabled = false;
    }
  });
}

async function main() {
  const { user } = await startPage();
  if (!user) return;
  state.user = user;
  fillPeriods();
  wirePublish();
  const select = document.getElementById('period');
  select.addEventListener('change', async () => {
    state.period = select.value;
    const url = new URL(location.href);
    url.searchParams.set('period', state.period);
    history.replaceState(null, '', url);
    await load();
  });
  document.getElementById('period-form').addEventListener('submit', (e) => e.preventDefault());
  await load();
  markReady();
}

main().catch((e) => {
  announce(t('map.loadError', { detail: e.message }));
  markReady();
});
