// Setting up one's second factor: the server makes a secret and shows it as
// a QR code (drawn on the server, never by a QR service), as an otpauth://
// URI and as text to type; the first code from the app confirms it, and the
// ten recovery codes are shown this once.
import { startPage, markReady, nextPath } from './shell.js';
import { t } from './i18n.js';
import { getJson, postJson, ApiError } from './api.js';

function show(id, on = true) {
  document.getElementById(id).hidden = !on;
}

async function begin() {
  const started = await postJson('/api/v1/auth/second-factor');
  // A new address each time: the image of an earlier attempt is stale.
  document.getElementById('factor-qr').src = `${started.qr_code}?t=${Date.now()}`;
  document.getElementById('factor-qr').alt = t('factor.qrAlt');
  document.getElementById('factor-secret').textContent = started.secret;
  document.getElementById('factor-uri').value = started.otpauth_uri;
  show('factor-start', false);
  show('factor-setup');
  document.getElementById('factor-setup-heading').focus();
}

function showCodes(codes) {
  const list = document.getElementById('factor-code-list');
  list.replaceChildren(...codes.map((c) => {
    const li = document.createElement('li');
    li.textContent = c;
    return li;
  }));
  document.getElementById('factor-continue').href = nextPath();
  show('factor-setup', false);
  show('factor-required', false);
  show('factor-codes');
  document.getElementById('factor-codes-heading').focus();
}

async function main() {
  const { user } = await startPage({ enrolPage: true });
  if (!user) {
    markReady();
    return;
  }
  const state = await getJson('/api/v1/auth/second-factor');
  if (state.enrolled) {
    const p = document.getElementById('factor-enrolled');
    p.textContent = t('factor.enrolled', { n: state.recovery_codes_left });
    p.hidden = false;
    markReady();
    return;
  }
  show('factor-required', state.required);
  show('factor-start');
  const error = document.getElementById('factor-error');
  document.getElementById('factor-begin').addEventListener('click', () => {
    begin().catch((e) => {
      document.getElementById('status').textContent = t('form.serverError', { detail: e.message });
    });
  });
  document.getElementById('factor-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.textContent = '';
    const input = document.getElementById('factor-code');
    const code = input.value.trim();
    if (!code) {
      error.textContent = t('factor.codeMissing');
      input.focus();
      return;
    }
    const button = document.getElementById('factor-confirm');
    button.disabled = true;
    try {
      const done = await postJson('/api/v1/auth/second-factor/confirm', { code });
      showCodes(done.recovery_codes);
    } catch (e) {
      error.textContent = e instanceof ApiError && e.field === 'code' ? t('factor.codeWrong') : t('form.serverError', { detail: e.message });
      input.select();
    } finally {
      button.disabled = false;
    }
  });
  markReady();
}

main().catch(() => markReady());
