// account.js: the signed-in user's menu: change own password, own API tokens, log out.
import { api } from './api.js';
import { h, actionsMenu, formDialog, field, message } from './ui.js';
import { tokensDialog } from './tokens.js';

export function accountMenu(ctx, logout) {
  const me = ctx.me;
  const menu = actionsMenu(me.username, [
    { label: 'Change password', run: () => changePassword() },
    { label: 'My API tokens', run: () => tokensDialog(me, true) },
    { label: 'Log out', run: () => logout() },
  ]);
  menu.querySelector('summary').textContent = `${me.username} (${me.role})`;
  menu.querySelector('summary').setAttribute('aria-label', `Account menu for ${me.username}, role ${me.role}`);
  menu.classList.add('account-menu');
  return menu;
}

function changePassword() {
  const cur = h('input', { type: 'password', name: 'current_password', autocomplete: 'current-password' });
  const neu = h('input', { type: 'password', name: 'new_password', autocomplete: 'new-password' });
  const rep = h('input', { type: 'password', name: 'repeat_password', autocomplete: 'new-password' });
  return formDialog('Change your password', [field('Current password', cur), field('New password', neu, 'At least 8 characters.'),
    field('Repeat the new password', rep)], 'Change password', async () => {
    if (neu.value !== rep.value) throw new Error('The two new passwords differ.');
    await api('POST', '/auth/password', { current_password: cur.value, new_password: neu.value });
  });
}

export { message };
