// Sign in once; the session cookie and its CSRF token then serve every sync.

import * as api from '../api.js';
import { t } from '../i18n/index.js';
import { waitingByUser } from '../outbox.js';
import { getMeta } from '../store.js';
import { fill, h } from './dom.js';

// Who still has records on this phone: each cadre's wait for that cadre's next sign-in.
export async function waitingNotices(exceptUserId = null) {
  const waiting = (await waitingByUser()).filter((w) => w.userId !== exceptUserId && (w.records || w.photos));
  return waiting.map((w) => h('p', { class: 'notice', 'data-testid': 'waiting-for' },
    t('queue.waitingFor', { name: w.user?.display_name || `#${w.userId}`, records: w.records, photos: w.photos })));
}

// Why signing in failed, in the cadre's words (never the browser's or the server's English).
function signInFailure(err) {
  if (!(err instanceof api.ApiError)) return t('signin.offline');
  if (err.status === 429) return t('signin.throttled');
  if (api.isTransient(err)) return t('signin.serverError');
  return t('signin.wrong');
}

export async function signinView(root, ctx) {
  const stored = await getMeta('session');
  const previous = stored?.user;
  const waiting = await waitingNotices();
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  const username = h('input', {
    name: 'username', autocomplete: 'username', autocapitalize: 'none', required: true,
    value: previous?.username || '',
  });
  const password = h('input', {
    name: 'password', type: 'password', autocomplete: 'current-password', required: true,
  });
  const submit = h('button', { type: 'submit', class: 'primary big' }, t('signin.submit'));

  async function onSubmit(event) {
    event.preventDefault();
    error.hidden = true;
    submit.disabled = true;
    try {
      const answer = await api.login(username.value.trim(), password.value);
      if (answer.user.must_change_password) {
        fill(root, passwordChangeForm(ctx, password.value, answer.csrf_token));
        root.querySelector('[autofocus]')?.focus();
        return;
      }
      await ctx.signedIn(answer);
    } catch (err) {
      error.textContent = signInFailure(err);
      error.hidden = false;
    } finally {
      submit.disabled = false;
    }
  }

  fill(root, h('section', { class: 'signin' },
    h('h1', null, t('signin.title')),
    previous && !stored.signedOut ? h('p', { class: 'notice' }, t('signin.again', { name: previous.display_name })) : null,
    waiting,
    h('form', { onsubmit: onSubmit },
      h('label', null, t('signin.username'), username),
      h('label', null, t('signin.password'), password),
      error,
      submit),
  ));
  (previous ? password : username).setAttribute('autofocus', '');
}

// A one-time password (a new account, a reset) opens nothing but this form: the server
// refuses every other call until the cadre has chosen a password.
function passwordChangeForm(ctx, oneTime, csrf) {
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  const attrs = { type: 'password', autocomplete: 'new-password', required: true, minlength: 8 };
  const next = h('input', { name: 'new-password', autofocus: '', ...attrs });
  const repeated = h('input', { name: 'repeated-password', ...attrs });
  const submit = h('button', { type: 'submit', class: 'primary big' }, t('password.submit'));

  async function onSubmit(event) {
    event.preventDefault();
    error.hidden = true;
    const problem = next.value.length < 8 ? t('password.tooShort')
      : next.value !== repeated.value ? t('password.differ') : null;
    if (problem) {
      error.textContent = problem;
      error.hidden = false;
      return;
    }
    submit.disabled = true;
    try {
      await ctx.signedIn(await api.changePassword(oneTime, next.value, repeated.value, csrf));
    } catch (err) {
      error.textContent = err instanceof api.ApiError ? err.message : t('signin.offline');
      error.hidden = false;
    } finally {
      submit.disabled = false;
    }
  }

  return h('section', { class: 'signin password-change' },
    h('h1', null, t('password.title')),
    h('p', { class: 'notice' }, t('password.why')),
    h('form', { onsubmit: onSubmit },
      h('label', null, t('password.new'), next),
      h('label', null, t('password.repeat'), repeated),
      error,
      submit));
}
