// Sortable data tables with CSV download: the accessible alternative to
// every map layer (DOS-lagen asks for one).
import { t, formatNumber } from './i18n.js';

/**
 * columns: [{ key, label, numeric?, nowrap?, format?(value,row) }]
 * rowAction: { header, label (text or row => text), ariaLabel(row), run(row), pressed?(row),
 *   show?(row) (false: no button in that row) }
 *   first? (the button column leads, so a phone reaches it without scrolling)
 * rowKey: the field whose value each row carries in data-key
 * empty: text for a table without rows
 * rows: plain objects; the raw values go to the CSV, the formatted ones to
 * the screen.
 */
export function renderTable(container, { id, caption, columns, rows, filename, rowAction, rowKey, empty }) {
  container.replaceChildren();
  const section = document.createElement('section');
  section.className = 'data-table';
  // Not a landmark itself: the scroll region below carries the name, and
  // two landmarks with one name would confuse landmark navigation.
  section.dataset.table = id;

  const bar = document.createElement('div');
  bar.className = 'table-bar';
  const h = document.createElement('h3');
  h.id = `${id}-caption`;
  h.textContent = caption;
  const count = document.createElement('span');
  count.className = 'table-count';
  count.textContent = t('table.rows', { n: formatNumber(rows.length) });
  const dl = document.createElement('button');
  dl.type = 'button';
  dl.className = 'button secondary';
  dl.textContent = t('table.download');
  dl.setAttribute('aria-label', t('table.downloadNamed', { name: caption }));
  dl.addEventListener('click', () => downloadCsv(filename, columns, rows));
  bar.append(h, count, dl);

  const wrap = document.createElement('div');
  wrap.className = 'table-scroll';
  // A scrolling region must be reachable by keyboard.
  wrap.tabIndex = 0;
  wrap.setAttribute('role', 'region');
  wrap.setAttribute('aria-labelledby', `${id}-caption`);
  const table = document.createElement('table');
  const thead = document.createElement('thead');
  const tr = document.createElement('tr');
  const tbody = document.createElement('tbody');
  let sortKey = null;
  let ascending = true;

  const draw = () => {
    const sorted = [...rows];
    if (sortKey) {
      const col = columns.find((c) => c.key === sortKey);
      sorted.sort((a, b) => compare(a[sortKey], b[sortKey], col.numeric) * (ascending ? 1 : -1));
    }
    const frag = document.createDocumentFragment();
    for (const row of sorted) {
      const r = document.createElement('tr');
      // rowKey names the field that identifies a row, for scripts and tests.
      if (rowKey) r.dataset.key = String(row[rowKey]);
      for (const col of columns) {
        const td = document.createElement('td');
        const v = row[col.key];
        td.textContent = col.format ? col.format(v, row) : display(v, col.numeric);
        if (col.numeric) td.className = 'num';
        if (col.nowrap) td.classList.add('nowrap');
        r.append(td);
      }
      const put = (td) => (rowAction.first ? r.prepend(td) : r.append(td));
      if (rowAction && rowAction.show && !rowAction.show(row)) {
        put(document.createElement('td'));
      } else if (rowAction) {
        const td = document.createElement('td');
        const b = document.createElement('button');
        b.type = 'button';
        b.className = 'button small';
        // label and pressed may follow the row's state (a toggle).
        const label = () => {
          b.textContent = typeof rowAction.label === 'function' ? rowAction.label(row) : rowAction.label;
          b.setAttribute('aria-label', rowAction.ariaLabel(row));
          if (rowAction.pressed) b.setAttribute('aria-pressed', String(Boolean(rowAction.pressed(row))));
        };
        label();
        b.addEventListener('click', () => {
          rowAction.run(row);
          label();
        });
        td.append(b);
        put(td);
      }
      frag.append(r);
    }
    if (!sorted.length && empty) {
      const r = document.createElement('tr');
      const td = document.createElement('td');
      td.colSpan = columns.length + (rowAction ? 1 : 0);
      td.className = 'empty';
      td.textContent = empty;
      r.append(td);
      frag.append(r);
    }
    tbody.replaceChildren(frag);
    for (const th of tr.querySelectorAll('th[data-key]')) {
      const active = th.dataset.key === sortKey;
      th.setAttribute('aria-sort', active ? (ascending ? 'ascending' : 'descending') : 'none');
      th.querySelector('.sort-mark').textContent = active ? (ascending ? ' ▲' : ' ▼') : '';
    }
  };

  for (const col of columns) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.dataset.key = col.key;
    if (col.numeric) th.className = 'num';
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'sort';
    const label = document.createElement('span');
    label.textContent = col.label;
    const mark = document.createElement('span');
    mark.className = 'sort-mark';
    mark.setAttribute('aria-hidden', 'true');
    b.append(label, mark);
    b.addEventListener('click', () => {
      ascending = sortKey === col.key ? !ascending : !col.numeric;
      sortKey = col.key;
      draw();
    });
    th.append(b);
    tr.append(th);
  }
  if (rowAction) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = rowAction.header;
    if (rowAction.first) tr.prepend(th); else tr.append(th);
  }
  thead.append(tr);
  const cap = document.createElement('caption');
  cap.className = 'visually-hidden';
  cap.textContent = caption;
  table.append(cap, thead, tbody);
  wrap.append(table);
  section.append(bar, wrap);
  container.append(section);
  draw();
}

function display(v, numeric) {
  if (v == null) return '';
  if (numeric && typeof v === 'number') return formatNumber(v, 1);
  return String(v);
}

function compare(a, b, numeric) {
  if (a == null && b == null) return 0;
  if (a == null) return 1;
  if (b == null) return -1;
  if (numeric) return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

export function toCsv(columns, rows) {
  const esc = (v) => {
    if (v == null) return '';
    let s = String(v);
    // A cell starting with = + - @ (or a tab or carriage return before
    // one) would run as a formula in a spreadsheet; only a plain number may.
    if (/^[=+\-@\t\r]/.test(s) && !/^[-+]?\d+([.,]\d+)?$/.test(s)) s = `'${s}`;
    return /[",\n\r;]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const lines = [columns.map((c) => esc(c.label)).join(',')];
  for (const r of rows) lines.push(columns.map((c) => esc(c.csv ? c.csv(r[c.key], r) : r[c.key])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

export function downloadCsv(filename, columns, rows) {
  // The byte order mark makes Excel read the file as UTF-8 (å, ä, ö).
  const blob = new Blob(['\ufeff', toCsv(columns, rows)], { type: 'text/csv;charset=utf-8' });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
