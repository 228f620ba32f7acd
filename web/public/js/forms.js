// Small form helpers shared by the account and administration pages:
// errors next to the field they concern, and a confirmation step before
// anything that cannot simply be undone.
import { t, term, formatDateTime } from './i18n.js';

/** Shows `message` in `#<base>-error` and marks the input invalid.
 * `focusId` names the control to mark and focus when it is not `#<base>`
 * (a group of check boxes). */
export function showFieldError(base, message, focusId) {
  const out = document.getElementById(`${base}-error`);
  if (out) out.textContent = message;
  const control = document.getElementById(focusId || base);
  if (!control) return;
  if (!focusId) control.setAttribute('aria-invalid', 'true');
  const form = control.closest('form');
  // The first error of a form takes the focus.
  if (!form || form.querySelector('[data-focused-error]') == null) {
    control.dataset.focusedError = 'true';
    control.focus();
  }
}

export function clearErrors(form) {
  for (const el of form.querySelectorAll('.error')) el.textContent = '';
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  for (const el of form.querySelectorAll('[data-focused-error]')) delete el.dataset.focusedError;
}

/** A server answer's problem (ApiError) shown next to the field it names,
 * or in `fallback` when the form has no such field. `fields` maps the
 * API's field names to the form's ids. */
export function showProblem(err, fields, fallback) {
  const id = err.field && fields[err.field];
  if (id) {
    showFieldError(id, err.message);
    return;
  }
  const out = document.getElementById(fallback);
  if (out) out.textContent = t('form.serverError', { detail: err.message });
}

let restoreFocus = null;

/**
 * Asks before doing something that cannot simply be undone. The box and its
 * buttons are in the page (hidden); `run` is awaited, and its error stays
 * in the box.
 */
export function confirmStep({ box, question, yes, no, error, text, run, yesLabel }) {
  const el = document.getElementById(box);
  const q = document.getElementById(question);
  const yesButton = document.getElementById(yes);
  const noButton = document.getElementById(no);
  const err = document.getElementById(error);
  restoreFocus = document.activeElement;
  q.textContent = text;
  if (yesLabel) yesButton.textContent = yesLabel;
  err.textContent = '';
  el.hidden = false;
  q.focus();
  const close = () => {
    el.hidden = true;
    yesButton.onclick = null;
    noButton.onclick = null;
    if (restoreFocus && restoreFocus.isConnected) restoreFocus.focus();
  };
  noButton.onclick = close;
  yesButton.onclick = async () => {
    yesButton.disabled = true;
    try {
      await run();
      restoreFocus = null;
      close();
    } catch (e) {
      err.textContent = t('form.serverError', { detail: e.message });
    } finally {
      yesButton.disabled = false;
    }
  };
}

export function scopesText(scopes) {
  return (scopes || []).map((s) => term('scope', s)).join(', ');
}

export function tokenState(token) {
  return token.revoked_at
    ? t('tokens.revokedAt', { at: formatDateTime(token.revoked_at) })
    : t('tokens.active');
}
