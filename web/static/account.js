// account.js: the signed-in user's menu: change own password, set up two-factor authentication,
// own API tokens, log out.
import { api } from './api.js';
import { h, actionsMenu, formDialog, field, message, dialog, flash } from './ui.js';
import { totpEnrol } from './login.js';
import { tokensDialog } from './tokens.js';

export function accountMenu(ctx, logout) {
  const me = ctx.me;
  const menu = actionsMenu(me.username, [
    { label: 'Change password', run: () => changePassword() },
    !me.totp_enabled && { label: 'Set up two-factor authentication', run: () => setUpTotp(ctx, logout, menu) },
    { label: 'My API tokens', run: () => tokensDialog(me, true) },
    { label: 'Log out', run: () => logout() },
  ]);
  menu.querySelector('summary').textContent = `${me.username} (${me.role})`;
  menu.querySelector('summary').setAttribute('aria-label', `Account menu for ${me.username}, role ${me.role}`);
  menu.classList.add('account-menu');
  return menu;
}

// The user's own TOTP enrolment; afterwards the login asks for a code and the menu drops the item.
function setUpTotp(ctx, logout, menu) {
  return dialog('Set up two-factor authentication', (body, close) => {
    const form = h('form', { class: 'form' });
    totpEnrol(form, () => {
      ctx.me.totp_enabled = true;
      close(true);
      const fresh = accountMenu(ctx, logout);
      menu.replaceWith(fresh);
      fresh.querySelector('summary').focus();
      flash('ok', 'Two-factor authentication is on: the next login asks for a code.');
    }, h('button', { type: 'button', class: 'btn', text: 'Cancel', onclick: () => close(false) }));
    body.append(form);
  });
}

function changePassword() {
  const cur = h('input', { type: 'password', name: 'current_password', autocomplete: 'current-password' });
  const neu = h('input', { type: 'password', name: 'new_password', autocomplete: 'new-password' });
  const rep = h('input', { type: 'password', name: 'repeat_password', autocomplete: 'new-password' });
  return formDialog('Change your password', [field('Current password', cur), field('New password', neu, 'At least 8 characters.'),
    field('Repeat the new password', rep)], 'Change password', async () => {
    if (neu.value !== rep.value) throw new Error('The two new passwords differ.');
    await api('POST', '/auth/password', { current_password: cur.value, new_password: neu.value });
    flash('ok', 'Your password is changed.');
  });
}

export { message };
