// login.js: the login screen (password, then the TOTP code when the account asks for one), the
// forced password change and TOTP enrolment. The API's messages ("this account is disabled",
// "locked after too many failed logins") are shown as they come.
import { api, setCsrf } from './api.js';
import { h, field, message, secretBox } from './ui.js';

export function showLogin(main, notice, onDone) {
  const user = h('input', { type: 'text', name: 'username', autocomplete: 'username', required: true, autofocus: true });
  const pass = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const totp = h('input', { type: 'text', name: 'totp', inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]{6}', maxlength: '6' });
  const totpRow = field('Two-factor code', totp, 'The six digits your authenticator app shows.');
  totpRow.hidden = true;
  const out = h('div', { class: 'login-msg', 'aria-live': 'assertive' });
  if (notice) out.append(message('info', notice));
  const btn = h('button', { type: 'submit', class: 'btn primary', text: 'Log in' });
  const form = h('form', { class: 'form login', id: 'login-form' },
    h('h1', { text: 'hsmca' }), h('p', { class: 'muted', text: 'Log in to the certificate authority console.' }),
    field('Username', user), field('Password', pass), totpRow, out, h('div', { class: 'buttons' }, btn));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    out.replaceChildren();
    if (!user.value || !pass.value) {
      out.append(message('error', 'Enter your username and password.'));
      return;
    }
    const body = { username: user.value, password: pass.value };
    if (!totpRow.hidden && totp.value) body.totp = totp.value;
    btn.disabled = true;
    try {
      const r = await api('POST', '/auth/login', body);
      setCsrf(r.csrf_token);
      pass.value = '';
      onDone();
    } catch (e) {
      if (e.code === 'totp_required') {
        totpRow.hidden = false;
        out.append(message('info', e.message));
        totp.focus();
      } else {
        out.append(message('error', e.message));
        if (e.code === 'invalid_totp') { totp.value = ''; totp.focus(); } else pass.focus();
      }
    } finally {
      btn.disabled = false;
    }
  });
  main.replaceChildren(h('div', { class: 'login-wrap' }, form));
  user.focus();
}

// Change the caller's own password; forced = the server requires it before anything else.
export function changePasswordForm(forced, onDone) {
  const cur = h('input', { type: 'password', name: 'current_password', autocomplete: 'current-password', required: true });
  const neu = h('input', { type: 'password', name: 'new_password', autocomplete: 'new-password', minlength: '8', required: true });
  const rep = h('input', { type: 'password', name: 'repeat_password', autocomplete: 'new-password', required: true });
  const out = h('div', { 'aria-live': 'assertive' });
  const form = h('form', { class: 'form login', id: 'password-form' },
    h('h1', { text: 'Change your password' }),
    forced ? h('p', { class: 'msg msg-info', text: 'Your password must be changed before you can continue.' }) : null,
    field('Current password', cur), field('New password', neu, 'At least 8 characters.'), field('Repeat the new password', rep),
    out, h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'btn primary', text: 'Change password' })));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    out.replaceChildren();
    if (neu.value !== rep.value) {
      out.append(message('error', 'The two new passwords differ.'));
      return;
    }
    try {
      await api('POST', '/auth/password', { current_password: cur.value, new_password: neu.value });
      out.append(message('ok', 'Password changed.'));
      onDone();
    } catch (e) {
      out.append(message('error', e.message));
    }
  });
  setTimeout(() => cur.focus(), 0);
  return h('div', { class: 'login-wrap' }, form);
}

// TOTP enrolment required by the system: show the secret once, confirm with a code.
export function totpEnrolForm(onDone) {
  const form = h('form', { class: 'form login' }, h('h1', { text: 'Set up two-factor authentication' }));
  totpEnrol(form, onDone);
  return h('div', { class: 'login-wrap' }, form);
}

// Fills form with the enrolment steps: asks the server for a new secret, shows it once (base32
// and otpauth URI, each with a Copy button), then confirms a code the app made from it. Used by
// the forced enrolment above and by the account menu.
export function totpEnrol(form, onDone, extraButtons) {
  const out = h('div', { 'aria-live': 'assertive' });
  const code = h('input', { type: 'text', name: 'code', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: '6', pattern: '[0-9]{6}' });
  form.append(out);
  api('POST', '/auth/totp/enroll', {}).then((r) => {
    form.insertBefore(h('div', {},
      h('p', { text: 'Add this secret to your authenticator app, then type the six digits it shows.' }),
      secretBox('Secret (base32)', r.secret, 'It is not shown again: add it to your app now.'),
      secretBox('otpauth URI', r.otpauth_uri),
      field('Code from the app', code)), out);
    form.append(h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'btn primary', text: 'Confirm' }), extraButtons || null));
    code.focus();
  }).catch((e) => {
    out.append(message('error', e.message));
    if (extraButtons) form.append(h('div', { class: 'buttons' }, extraButtons));
  });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    out.replaceChildren();
    if (!/^\d{6}$/.test(code.value.trim())) {
      out.append(message('error', 'Type the six digits your authenticator app shows.'));
      code.focus();
      return;
    }
    try {
      await api('POST', '/auth/totp/confirm', { code: code.value.trim() });
      onDone();
    } catch (e) {
      out.append(message('error', e.message));
      code.value = '';
      code.focus();
    }
  });
}
