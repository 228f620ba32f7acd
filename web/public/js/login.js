// Sign-in for planners and field staff (accounts are made by an admin with
// `trygg user add`). The session is an HttpOnly cookie the page never sees.
import { startPage, markReady } from './shell.js';
import { t } from './i18n.js';
import { login, ApiError } from './api.js';

/** Only a path on this site: a login page must not forward anywhere else. */
function nextPath() {
  const next = new URLSearchParams(location.search).get('next') || '/map';
  return next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/map';
}

async function main() {
  const { user } = await startPage({ needsLogin: false });
  if (user) {
    location.replace(nextPath());
    return;
  }
  const form = document.getElementById('login-form');
  const error = document.getElementById('login-error');
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.textContent = '';
    const username = document.getElementById('username').value.trim();
    const password = document.getElementById('password').value;
    if (!username || !password) {
      error.textContent = t('login.missing');
      document.getElementById(username ? 'password' : 'username').focus();
      return;
    }
    const button = document.getElementById('login-submit');
    button.disabled = true;
    try {
      await login(username, password);
      location.assign(nextPath());
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) error.textContent = t('login.wrong');
      else if (e instanceof ApiError && e.status === 429) error.textContent = t('login.throttled');
      else error.textContent = t('form.serverError', { detail: e.message });
      document.getElementById('password').select();
    } finally {
      button.disabled = false;
    }
  });
  document.getElementById('username').focus();
  markReady();
}

main().catch(() => markReady());
