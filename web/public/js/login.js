// Sign-in for planners and field staff (accounts are made by an admin with
// `trygg user add`). The session is an HttpOnly cookie the page never sees.
import { startPage, markReady, nextPath, SECOND_FACTOR_PAGE } from './shell.js';
import { t } from './i18n.js';
import { login, ApiError } from './api.js';

async function main() {
  const { user } = await startPage({ needsLogin: false });
  if (user) {
    location.replace(nextPath());
    return;
  }
  const form = document.getElementById('login-form');
  const error = document.getElementById('login-error');
  const codeField = document.getElementById('code-field');
  const codeInput = document.getElementById('code');
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
    const code = codeField.hidden ? '' : codeInput.value.trim();
    if (!codeField.hidden && !code) {
      error.textContent = t('login.codeMissing');
      codeInput.focus();
      button.disabled = false;
      return;
    }
    try {
      const answer = await login(username, password, code);
      if (answer.second_factor === 'enrol') {
        location.assign(`${SECOND_FACTOR_PAGE}?next=${encodeURIComponent(nextPath())}`);
      } else {
        location.assign(nextPath());
      }
    } catch (e) {
      if (e instanceof ApiError && e.secondFactor === 'code') {
        // The password was right: ask for the code (a second time: it was wrong).
        const asked = !codeField.hidden;
        codeField.hidden = false;
        error.textContent = asked ? t('login.codeWrong') : '';
        codeInput.value = '';
        codeInput.focus();
        return;
      }
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
