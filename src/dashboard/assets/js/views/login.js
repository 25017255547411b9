// Sign in with a user name and password, or with an API key (POST B/session).
import {signIn} from '../api.js';
import {h, message, errorText} from '../dom.js';

export function mount(main, {onSignedIn}) {
  const username = h('input', {name: 'username', autocomplete: 'username', 'data-testid': 'login-username', id: 'login-username'});
  const password = h('input', {name: 'password', type: 'password', autocomplete: 'current-password', 'data-testid': 'login-password', id: 'login-password'});
  const apiKey = h('input', {name: 'api_key', type: 'password', autocomplete: 'off', 'data-testid': 'login-api-key', id: 'login-api-key'});
  const error = h('p', {class: 'message', 'data-testid': 'login-error', role: 'alert', hidden: true});
  const submit = h('button', {type: 'submit', class: 'primary', 'data-testid': 'login-submit'}, 'Sign in');

  const form = h('form', {class: 'login-form', 'data-testid': 'login-form', novalidate: true},
    h('h1', null, 'Sign in'),
    h('label', {for: 'login-username'}, 'User name'), username,
    h('label', {for: 'login-password'}, 'Password'), password,
    h('p', {class: 'or'}, 'or'),
    h('label', {for: 'login-api-key'}, 'API key'), apiKey,
    error, submit);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const key = apiKey.value.trim();
    if (!key && (!username.value || !password.value)) {
      message(error, 'Enter a user name and password, or an API key.', 'error');
      return;
    }
    submit.disabled = true;
    message(error, '');
    try {
      await signIn(key ? {api_key: key} : {username: username.value, password: password.value});
      onSignedIn();
    } catch (e) {
      message(error, errorText(e), 'error');
      password.value = '';
      submit.disabled = false;
    }
  });

  main.append(h('section', {class: 'view login', 'data-testid': 'login-view'}, form));
  username.focus();
}
