// Sign in once; the session cookie and its CSRF token then serve every sync.

import * as api from '../api.js';
import { t } from '../i18n/index.js';
import { fill, h } from './dom.js';

export function signinView(root, ctx) {
  const previous = ctx.session?.user;
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
      await ctx.signedIn(answer);
    } catch (err) {
      error.textContent = err instanceof api.ApiError
        ? (err.status === 401 ? t('signin.wrong') : err.status === 429 ? t('signin.throttled') : err.message)
        : t('signin.offline');
      error.hidden = false;
    } finally {
      submit.disabled = false;
    }
  }

  fill(root, h('section', { class: 'signin' },
    h('h1', null, t('signin.title')),
    previous ? h('p', { class: 'notice' }, t('signin.again', { name: previous.display_name })) : null,
    h('form', { onsubmit: onSubmit },
      h('label', null, t('signin.username'), username),
      h('label', null, t('signin.password'), password),
      error,
      submit),
  ));
  (previous ? password : username).setAttribute('autofocus', '');
}
