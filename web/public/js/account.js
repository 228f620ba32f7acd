// The account page: who you are, and your own API tokens. A new token's
// secret is shown once, right after it is made; the server keeps only
// its hash.
import { startPage, markReady, announce } from './shell.js';
import { t, term, formatDateTime } from './i18n.js';
import { ApiError, getJson, postJson, remove } from './api.js';
import { renderTable } from './table.js';
import { showFieldError, clearErrors, confirmStep, scopesText, tokenState } from './forms.js';

let tokens = [];

function facts(user) {
  const dl = document.getElementById('account-facts');
  const rows = [
    [t('account.username'), user.username],
    [t('account.displayName'), user.display_name],
    [t('account.role'), term('role', user.role)],
    [t('account.organisation'), user.organisation || ''],
    [t('account.publish'), user.can_publish ? t('account.yes') : t('account.no')],
  ];
  dl.replaceChildren(...rows.flatMap(([k, v]) => {
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    dd.textContent = v;
    return [dt, dd];
  }));
}

async function loadTokens() {
  tokens = (await getJson('/api/v1/auth/tokens')).tokens;
  // Active first, newest first.
  tokens.sort((a, b) => (a.revoked_at ? 1 : 0) - (b.revoked_at ? 1 : 0) || b.created_at.localeCompare(a.created_at));
  renderTokens();
}

function renderTokens() {
  renderTable(document.getElementById('my-tokens'), {
    id: 'table-my-tokens',
    caption: t('tokens.mine'),
    filename: 'trygg-my-tokens.csv',
    rowKey: 'id',
    empty: t('tokens.none'),
    rows: tokens,
    columns: [
      { key: 'name', label: t('tokens.name') },
      { key: 'scopes', label: t('tokens.scopes'), format: scopesText, csv: (v) => v.join(' ') },
      { key: 'created_at', label: t('tokens.created'), format: formatDateTime },
      { key: 'last_used_at', label: t('tokens.lastUsed'), format: (v) => (v ? formatDateTime(v) : t('tokens.never')) },
      { key: 'revoked_at', label: t('tokens.state'), format: (v, row) => tokenState(row) },
    ],
    rowAction: {
      header: t('tokens.actions'),
      first: true,
      label: t('tokens.revoke'),
      ariaLabel: (row) => t('tokens.revokeNamed', { name: row.name }),
      show: (row) => !row.revoked_at,
      run: (row) => askRevoke(row),
    },
  });
}

function askRevoke(row) {
  confirmStep({
    box: 'my-token-confirm',
    question: 'my-token-question',
    yes: 'my-token-yes',
    no: 'my-token-no',
    error: 'my-token-error',
    text: t('tokens.revokeQuestion', { name: row.name }),
    async run() {
      await remove(`/api/v1/auth/tokens/${row.id}`);
      await loadTokens();
      announce(t('tokens.revoked', { name: row.name }));
    },
  });
}

function wireForm() {
  const form = document.getElementById('token-form');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    const name = document.getElementById('token-name').value.trim();
    const scopes = [...form.querySelectorAll('input[name="scopes"]:checked')].map((i) => i.value);
    let bad = false;
    if (!name) {
      showFieldError('token-name', t('form.missing', { field: t('tokens.name') }));
      bad = true;
    }
    if (!scopes.length) {
      showFieldError('token-scopes', t('tokens.noScope'), 'scope-read');
      bad = true;
    }
    if (bad) return;
    const submit = document.getElementById('token-submit');
    submit.disabled = true;
    try {
      const made = await postJson('/api/v1/auth/tokens', { name, scopes });
      form.reset();
      showSecret(made);
      await loadTokens();
    } catch (err) {
      if (err instanceof ApiError && err.field === 'name') showFieldError('token-name', err.message);
      else if (err instanceof ApiError && err.field === 'scopes') showFieldError('token-scopes', err.message, 'scope-read');
      else document.getElementById('token-error').textContent = t('form.serverError', { detail: err.message });
    } finally {
      submit.disabled = false;
    }
  });
}

function showSecret(made) {
  const box = document.getElementById('token-secret');
  const input = document.getElementById('token-secret-value');
  document.getElementById('token-secret-heading').textContent = t('tokens.madeHeading', { name: made.name });
  document.getElementById('token-copy-status').textContent = '';
  input.value = made.token;
  box.hidden = false;
  document.getElementById('token-secret-heading').focus();
}

function hideSecret() {
  const box = document.getElementById('token-secret');
  // Gone from the page for good: the server cannot show it again either.
  document.getElementById('token-secret-value').value = '';
  box.hidden = true;
  document.getElementById('token-name').focus();
}

function wireSecret() {
  const input = document.getElementById('token-secret-value');
  document.getElementById('token-copy').addEventListener('click', async () => {
    const status = document.getElementById('token-copy-status');
    try {
      await navigator.clipboard.writeText(input.value);
      status.textContent = t('tokens.copied');
    } catch {
      // No clipboard permission: select it so Ctrl+C / long-press works.
      input.focus();
      input.select();
      status.textContent = t('tokens.copyManually');
    }
  });
  input.addEventListener('focus', () => input.select());
  document.getElementById('token-secret-done').addEventListener('click', hideSecret);
}

async function main() {
  const { user } = await startPage();
  if (!user) return;
  facts(user);
  document.getElementById('admin-link').hidden = user.role !== 'admin';
  wireForm();
  wireSecret();
  try {
    await loadTokens();
  } catch (e) {
    announce(t('admin.loadError', { detail: e.message }));
  }
  markReady();
}

main().catch((e) => {
  announce(e.message);
  markReady();
});
