// Administration: users, organisations, everyone's API tokens and the
// audit log. Only admins get anything from these APIs (and only through a
// session); anyone else sees a plain "admins only" notice.
import { startPage, markReady, announce } from './shell.js';
import { t, term, formatDateTime } from './i18n.js';
import { ApiError, getJson, postJson, putJson, remove } from './api.js';
import { renderTable } from './table.js';
import { showFieldError, clearErrors, showProblem, confirmStep, scopesText, tokenState } from './forms.js';

const ROLES = ['admin', 'planner', 'field'];
const AUDIT_PAGE = 50;

let me = null;
let users = [];
let orgs = [];
let allTokens = [];
let audit = [];
let auditNext = null;
let editing = null;

function option(value, text) {
  const o = document.createElement('option');
  o.value = value;
  o.textContent = text;
  return o;
}

function adminsOnly() {
  document.getElementById('admin-content').hidden = true;
  document.getElementById('admins-only').hidden = false;
}

function yesNo(v) {
  return v ? t('account.yes') : t('account.no');
}

// Users ---------------------------------------------------------------

async function loadUsers() {
  users = (await getJson('/api/v1/admin/users')).users;
  users.sort((a, b) => a.username.localeCompare(b.username, 'sv'));
  renderUsers();
}

function renderUsers() {
  renderTable(document.getElementById('users-table'), {
    id: 'table-users',
    caption: t('admin.users.tableCaption'),
    filename: 'trygg-users.csv',
    rowKey: 'username',
    rows: users,
    columns: [
      { key: 'username', label: t('admin.users.username') },
      { key: 'display_name', label: t('admin.users.displayName') },
      { key: 'role', label: t('admin.users.role'), format: (v) => term('role', v) },
      { key: 'organisation', label: t('admin.users.organisation') },
      { key: 'can_publish', label: t('admin.users.publishShort'), format: yesNo },
      { key: 'disabled', label: t('admin.users.state'), format: (v) => (v ? t('admin.users.disabled') : t('admin.users.active')) },
      { key: 'created_at', label: t('admin.users.created'), format: formatDateTime, nowrap: true },
    ],
    rowAction: {
      header: t('admin.users.actions'),
      first: true,
      label: t('admin.users.edit'),
      ariaLabel: (row) => t('admin.users.editNamed', { name: row.username }),
      run: (row) => openEditor(row.id),
    },
  });
}

function openEditor(id) {
  const user = users.find((u) => u.id === id);
  if (!user) return;
  editing = user;
  const box = document.getElementById('user-edit');
  for (const f of box.querySelectorAll('form')) clearErrors(f);
  document.getElementById('user-confirm').hidden = true;
  document.getElementById('user-edit-note').textContent = '';
  document.getElementById('user-edit-heading').textContent = t('admin.users.editHeading', { name: user.username });
  fillEditor();
  document.getElementById('edit-password').value = '';
  box.hidden = false;
  document.getElementById('user-edit-heading').focus();
}

function fillEditor() {
  const user = editing;
  document.getElementById('user-edit').dataset.user = user.username;
  document.getElementById('user-edit-state').textContent = t('admin.users.editState', {
    org: user.organisation || '',
    state: user.disabled ? t('admin.users.disabled') : t('admin.users.active'),
  });
  document.getElementById('edit-display-name').value = user.display_name || '';
  document.getElementById('edit-role').value = user.role;
  document.getElementById('edit-publish').checked = Boolean(user.can_publish);
  const toggle = document.getElementById('edit-toggle-disabled');
  toggle.textContent = user.disabled ? t('admin.users.enable') : t('admin.users.disable');
  toggle.className = user.disabled ? 'button' : 'button danger';
}

function closeEditor() {
  const name = editing?.username;
  editing = null;
  document.getElementById('user-edit').hidden = true;
  const back = name && document.querySelector(`#users-table tr[data-key="${CSS.escape(name)}"] button`);
  if (back) back.focus();
}

/** Sends a change of the user being edited and redraws with the answer. */
async function changeUser(change) {
  const updated = await putJson(`/api/v1/admin/users/${editing.id}`, change);
  users = users.map((u) => (u.id === updated.id ? updated : u));
  editing = updated;
  renderUsers();
  fillEditor();
  return updated;
}

function wireEditor() {
  const form = document.getElementById('user-edit-form');
  const editFields = { display_name: 'edit-display-name', role: 'edit-role' };
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    if (!editing) return;
    const change = {};
    const name = document.getElementById('edit-display-name').value.trim();
    const role = document.getElementById('edit-role').value;
    const publish = document.getElementById('edit-publish').checked;
    if (name !== (editing.display_name || '')) change.display_name = name;
    if (role !== editing.role) change.role = role;
    if (publish !== Boolean(editing.can_publish)) change.can_publish = publish;
    if (!Object.keys(change).length) {
      note(t('admin.users.nothingChanged'));
      return;
    }
    const save = async () => {
      const u = await changeUser(change);
      note(t('admin.users.saved', { name: u.username }));
      document.getElementById('user-edit-heading').focus();
    };
    // Taking admin away (from oneself above all) is asked about first.
    if (change.role && editing.role === 'admin') {
      confirmStep({
        ...userConfirm(),
        text: editing.id === me.id ? t('admin.users.demoteSelfQuestion') : t('admin.users.demoteQuestion', { name: editing.username, role: term('role', role) }),
        yesLabel: t('admin.users.demoteYes'),
        run: save,
      });
      return;
    }
    try {
      await save();
    } catch (err) {
      if (err instanceof ApiError) showProblem(err, editFields, 'user-edit-error');
      else document.getElementById('user-edit-error').textContent = err.message;
    }
  });
  document.getElementById('edit-close').addEventListener('click', closeEditor);

  const pwForm = document.getElementById('user-password-form');
  pwForm.addEventListener('submit', (e) => {
    e.preventDefault();
    clearErrors(pwForm);
    if (!editing) return;
    const password = document.getElementById('edit-password').value;
    if ([...password].length < 12) {
      showFieldError('edit-password', t('admin.users.passwordShort'));
      return;
    }
    confirmStep({
      ...userConfirm(),
      text: t('admin.users.passwordQuestion', { name: editing.username }),
      yesLabel: t('admin.users.setPassword'),
      async run() {
        try {
          await changeUser({ password });
        } catch (err) {
          if (err instanceof ApiError && err.field === 'password') {
            document.getElementById('user-confirm').hidden = true;
            showFieldError('edit-password', err.message);
            return;
          }
          throw err;
        }
        document.getElementById('edit-password').value = '';
        note(t('admin.users.passwordSet', { name: editing.username }));
      },
    });
  });

  document.getElementById('edit-toggle-disabled').addEventListener('click', () => {
    if (!editing) return;
    const user = editing;
    if (user.disabled) {
      changeUser({ disabled: false })
        .then((u) => note(t('admin.users.enabled', { name: u.username })))
        .catch((err) => { document.getElementById('user-edit-error').textContent = t('form.serverError', { detail: err.message }); });
      return;
    }
    confirmStep({
      ...userConfirm(),
      text: user.id === me.id ? t('admin.users.disableSelfQuestion') : t('admin.users.disableQuestion', { name: user.username }),
      yesLabel: t('admin.users.disable'),
      async run() {
        const u = await changeUser({ disabled: true });
        note(t('admin.users.disabledNow', { name: u.username }));
      },
    });
  });
}

/** Said next to the editor (where the eye is) and in the page's live
 * status line (for screen readers). */
function note(text) {
  document.getElementById('user-edit-note').textContent = text;
  announce(text);
}

function userConfirm() {
  return { box: 'user-confirm', question: 'user-question', yes: 'user-yes', no: 'user-no', error: 'user-confirm-error' };
}

function wireCreate() {
  const form = document.getElementById('user-create-form');
  const fields = {
    username: 'new-username',
    display_name: 'new-display-name',
    role: 'new-role',
    organisation: 'new-organisation',
    password: 'new-password',
  };
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    const body = {
      username: document.getElementById('new-username').value.trim(),
      display_name: document.getElementById('new-display-name').value.trim() || undefined,
      role: document.getElementById('new-role').value,
      organisation: document.getElementById('new-organisation').value,
      password: document.getElementById('new-password').value,
      can_publish: document.getElementById('new-publish').checked,
    };
    let bad = false;
    if (!body.username) {
      showFieldError('new-username', t('form.missing', { field: t('admin.users.username') }));
      bad = true;
    }
    if (!body.organisation) {
      showFieldError('new-organisation', t('form.missing', { field: t('admin.users.organisation') }));
      bad = true;
    }
    if ([...body.password].length < 12) {
      showFieldError('new-password', t('admin.users.passwordShort'));
      bad = true;
    }
    if (bad) return;
    const submit = document.getElementById('user-create-submit');
    submit.disabled = true;
    try {
      const made = await postJson('/api/v1/admin/users', body);
      form.reset();
      fillRoleSelect(document.getElementById('new-role'), 'field');
      await loadUsers();
      announce(t('admin.users.createdNow', { name: made.username }));
    } catch (err) {
      if (err instanceof ApiError) showProblem(err, fields, 'user-create-error');
      else document.getElementById('user-create-error').textContent = err.message;
    } finally {
      submit.disabled = false;
    }
  });
}

function fillRoleSelect(select, value) {
  select.replaceChildren(...ROLES.map((r) => option(r, term('role', r))));
  select.value = value;
}

// Organisations -------------------------------------------------------

async function loadOrgs() {
  orgs = (await getJson('/api/v1/admin/organisations')).organisations;
  orgs.sort((a, b) => a.name.localeCompare(b.name, 'sv'));
  const counts = new Map();
  for (const u of users) counts.set(u.organisation_id, (counts.get(u.organisation_id) || 0) + 1);
  document.getElementById('org-list').replaceChildren(...orgs.map((o) => {
    const li = document.createElement('li');
    li.dataset.name = o.name;
    const name = document.createElement('span');
    name.className = 'org-name';
    name.textContent = o.name;
    const n = document.createElement('span');
    n.className = 'hint';
    n.textContent = t('admin.orgs.members', { n: counts.get(o.id) || 0 });
    li.append(name, ' ', n);
    return li;
  }));
  const select = document.getElementById('new-organisation');
  const chosen = select.value;
  select.replaceChildren(option('', t('admin.users.chooseOrg')), ...orgs.map((o) => option(o.name, o.name)));
  if (orgs.some((o) => o.name === chosen)) select.value = chosen;
}

function wireOrgs() {
  const form = document.getElementById('org-form');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    document.getElementById('org-error').textContent = '';
    const name = document.getElementById('org-name').value.trim();
    if (!name) {
      showFieldError('org-name', t('form.missing', { field: t('admin.orgs.name') }));
      return;
    }
    try {
      const made = await postJson('/api/v1/admin/organisations', { name });
      form.reset();
      await loadOrgs();
      announce(t('admin.orgs.added', { name: made.name }));
    } catch (err) {
      if (err instanceof ApiError) showProblem(err, { name: 'org-name' }, 'org-error');
      else document.getElementById('org-error').textContent = err.message;
    }
  });
}

// Everyone's tokens ---------------------------------------------------

async function loadTokens() {
  allTokens = (await getJson('/api/v1/admin/tokens')).tokens;
  allTokens.sort((a, b) => b.created_at.localeCompare(a.created_at));
  renderTokens();
}

function renderTokens() {
  const byId = new Map(users.map((u) => [u.id, u.username]));
  const showRevoked = document.getElementById('show-revoked').checked;
  const rows = allTokens
    .filter((tk) => showRevoked || !tk.revoked_at)
    .map((tk) => ({ ...tk, user: byId.get(tk.user_id) || tk.user_id }));
  renderTable(document.getElementById('all-tokens'), {
    id: 'table-all-tokens',
    caption: showRevoked ? t('admin.tokens.captionAll') : t('admin.tokens.captionActive'),
    filename: 'trygg-tokens.csv',
    rowKey: 'id',
    empty: showRevoked ? t('admin.tokens.none') : t('admin.tokens.noneActive'),
    rows,
    columns: [
      { key: 'name', label: t('tokens.name') },
      { key: 'user', label: t('admin.tokens.user') },
      { key: 'scopes', label: t('tokens.scopes'), format: scopesText, csv: (v) => v.join(' ') },
      { key: 'created_at', label: t('tokens.created'), format: formatDateTime },
      { key: 'last_used_at', label: t('tokens.lastUsed'), format: (v) => (v ? formatDateTime(v) : t('tokens.never')) },
      { key: 'revoked_at', label: t('tokens.state'), format: (v, row) => tokenState(row) },
    ],
    rowAction: {
      header: t('tokens.actions'),
      first: true,
      label: t('tokens.revoke'),
      ariaLabel: (row) => t('admin.tokens.revokeNamed', { name: row.name, user: row.user }),
      show: (row) => !row.revoked_at,
      run: (row) => confirmStep({
        box: 'token-confirm',
        question: 'token-question',
        yes: 'token-yes',
        no: 'token-no',
        error: 'token-confirm-error',
        text: t('admin.tokens.revokeQuestion', { name: row.name, user: row.user }),
        async run() {
          await remove(`/api/v1/admin/tokens/${row.id}`);
          await loadTokens();
          announce(t('tokens.revoked', { name: row.name }));
          document.getElementById('all-tokens-heading').focus();
        },
      }),
    },
  });
}

// Audit log -----------------------------------------------------------

const SKIP = new Set(['id', 'token_id', 'user_id', 'organisation_id']);

function short(v) {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 59)}…` : s;
}

/** What an entry changed, in one line: the facts an account entry names,
 * or for a record the properties whose values differ. */
export function auditDetail(e) {
  const b = e.before && typeof e.before === 'object' ? e.before : null;
  const a = e.after && typeof e.after === 'object' ? e.after : null;
  if (b && a) {
    const bp = b.properties || b;
    const ap = a.properties || a;
    const keys = [...new Set([...Object.keys(bp), ...Object.keys(ap)])]
      .filter((k) => !['updated_at', 'version'].includes(k) && JSON.stringify(bp[k]) !== JSON.stringify(ap[k]));
    const geometry = b.geometry && JSON.stringify(b.geometry) !== JSON.stringify(a.geometry);
    return [...keys.map((k) => `${k}: ${short(bp[k] ?? '–')} → ${short(ap[k] ?? '–')}`), ...(geometry ? [t('admin.audit.geometry')] : [])].join('; ');
  }
  const one = a || b;
  if (!one) return typeof e.after === 'string' ? short(e.after) : '';
  const props = one.type === 'Feature' ? one.properties || {} : one;
  return Object.entries(props)
    .filter(([k, v]) => v != null && v !== false && !SKIP.has(k) && typeof v !== 'object')
    .slice(0, 6)
    .map(([k, v]) => `${k}: ${k === 'scopes' ? scopesText(String(v).split(',').filter(Boolean)) : short(v)}`)
    .join('; ');
}

async function loadAudit(more = false) {
  const qs = new URLSearchParams({ limit: String(AUDIT_PAGE) });
  if (more && auditNext != null) qs.set('before', String(auditNext));
  const page = await getJson(`/api/v1/admin/audit?${qs}`);
  audit = more ? [...audit, ...page.entries] : page.entries;
  auditNext = page.next_before;
  renderAudit();
}

function renderAudit() {
  const rows = audit.map((e) => ({
    id: e.id,
    at: e.at,
    username: e.username || '',
    action: e.action,
    kind: e.kind || '',
    detail: auditDetail(e),
  }));
  renderTable(document.getElementById('audit-table'), {
    id: 'table-audit',
    caption: t('admin.audit.caption'),
    filename: 'trygg-audit-shown.csv',
    rowKey: 'id',
    rows,
    columns: [
      { key: 'id', label: t('admin.audit.id'), numeric: true, format: (v) => String(v) },
      { key: 'at', label: t('admin.audit.at'), format: formatDateTime, nowrap: true },
      { key: 'username', label: t('admin.audit.who') },
      { key: 'action', label: t('admin.audit.action'), format: (v) => term('auditAction', v) },
      { key: 'kind', label: t('admin.audit.kind') },
      { key: 'detail', label: t('admin.audit.detail') },
    ],
  });
  const older = document.getElementById('audit-older');
  older.hidden = auditNext == null;
}

function wireAudit() {
  document.getElementById('audit-older').addEventListener('click', async () => {
    const shown = audit.length;
    try {
      await loadAudit(true);
      announce(t('admin.audit.moreShown', { n: audit.length - shown }));
    } catch (e) {
      announce(t('admin.loadError', { detail: e.message }));
    }
  });
  document.getElementById('audit-refresh').addEventListener('click', () => {
    loadAudit(false).then(() => announce(t('admin.audit.refreshed'))).catch((e) => announce(t('admin.loadError', { detail: e.message })));
  });
}

async function main() {
  const { user } = await startPage();
  if (!user) return;
  me = user;
  if (user.role !== 'admin') {
    adminsOnly();
    markReady();
    return;
  }
  fillRoleSelect(document.getElementById('new-role'), 'field');
  fillRoleSelect(document.getElementById('edit-role'), 'field');
  wireEditor();
  wireCreate();
  wireOrgs();
  wireAudit();
  document.getElementById('show-revoked').addEventListener('change', renderTokens);
  try {
    await loadUsers();
    await Promise.all([loadOrgs(), loadTokens(), loadAudit()]);
  } catch (e) {
    // The role may have been taken away since the session began.
    if (e instanceof ApiError && e.status === 403) {
      adminsOnly();
      markReady();
      return;
    }
    announce(t('admin.loadError', { detail: e.message }));
  }
  document.getElementById('admin-content').hidden = false;
  markReady();
}

main().catch((e) => {
  announce(e.message);
  markReady();
});
