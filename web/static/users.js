// users.js: the Users section: create (optionally with a generated password shown once), edit
// (email, role, teams, enabled; an empty password keeps the old one), last login time and IP,
// reset the TOTP secret (only when 2FA is on), reset login attempts (only when locked), API
// tokens, delete.
import { api, qs } from './api.js';
import {
  h, field, select, sectionHead, button, dataTable, actionsMenu, pager, formDialog, infoDialog, badge, fmtTime,
  secretBox, flash, message,
} from './ui.js';
import { tokensDialog } from './tokens.js';

const ROLES = ['admin', 'operator', 'auditor'];

export function render(root, ctx) {
  const list = h('div');
  let pg;
  root.append(sectionHead('Users', ctx.isAdmin ? button('Create user', () => createUser().then((ok) => ok && pg.reload()), { change: true, primary: true }) : null), list);
  pg = pager((after) => api('GET', '/users' + qs({ limit: 50, after })), (items) => dataTable('users', [
    { key: 'username', label: 'Username' },
    { key: 'email', label: 'Email' },
    { key: 'role', label: 'Role' },
    { key: 'enabled', label: 'State', render: (u) => badge(u.locked ? 'locked' : u.enabled ? 'enabled' : 'disabled') },
    { key: 'totp_enabled', label: '2FA', render: (u) => (u.totp_enabled ? 'on' : 'off') },
    { key: 'last_login_at', label: 'Last login', render: (u) => fmtTime(u.last_login_at) },
    { key: 'last_login_ip', label: 'Last login IP' },
    { key: 'failed_logins', label: 'Failed logins', default: false },
    { key: 'created_at', label: 'Created', default: false, render: (u) => fmtTime(u.created_at) },
  ], items, (u) => rowActions(u, ctx, () => pg.reload()), 'No users.'), list);
  root.append(pg.bar);
}

function rowActions(u, ctx, reload) {
  const admin = ctx.isAdmin;
  const self = ctx.me.id === u.id;
  const act = (fn, ok) => async () => {
    try { await fn(); flash('ok', ok); reload(); } catch (e) { flash('error', e.message); }
  };
  return actionsMenu(u.username, [
    admin && { label: 'Edit', change: true, run: () => editUser(u).then((ok) => ok && reload()) },
    admin && u.locked && { label: 'Reset login attempts', change: true, run: act(() => api('POST', `/users/${u.id}/reset-login-attempts`, {}), `${u.username} can log in again.`) },
    admin && u.totp_enabled && { label: 'Reset 2FA secret', change: true, run: act(() => api('POST', `/users/${u.id}/reset-totp`, {}), `The 2FA secret of ${u.username} is removed.`) },
    (admin || self || ctx.readOnly) && { label: 'API tokens', run: () => tokensDialog(u, admin || (self && !ctx.readOnly)) },
    admin && !self && { label: 'Delete', change: true, danger: true, run: () => formDialog(`Delete ${u.username}?`, [h('p', { text: `The user ${u.username} and their API tokens will be deleted.` })],
      'Delete user', async () => { await api('DELETE', `/users/${u.id}`); flash('ok', `${u.username} deleted.`); }, { danger: true }).then((ok) => ok && reload()) },
  ]);
}

function randomPassword() {
  const a = new Uint8Array(18);
  crypto.getRandomValues(a);
  return btoa(String.fromCharCode(...a)).replace(/[+/=]/g, 'x');
}

function createUser() {
  const username = h('input', { type: 'text', name: 'username', required: true, autocomplete: 'off' });
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'off' });
  const role = select('role', ROLES, 'operator');
  const gen = h('input', { type: 'checkbox', name: 'generate', checked: true });
  const pass = h('input', { type: 'password', name: 'password', autocomplete: 'new-password', disabled: true });
  const must = h('input', { type: 'checkbox', name: 'must_change_password', checked: true });
  gen.addEventListener('change', () => { pass.disabled = gen.checked; });
  return formDialog('Create user', [field('Username', username), field('Email', email), field('Role', role),
    h('label', { class: 'check' }, gen, ' Generate random password'), field('Password', pass, 'At least 8 characters.'),
    h('label', { class: 'check' }, must, ' Must change the password at the next login')], 'Create user', async () => {
    const b = { username: username.value.trim(), role: role.value, must_change_password: must.checked };
    if (email.value) b.email = email.value.trim();
    if (!gen.checked) b.password = pass.value;
    const r = await api('POST', '/users', b);
    if (r.password) {
      setTimeout(() => infoDialog(`User ${r.username} created`, secretBox('Generated password', r.password, 'Give it to the user now: it cannot be shown again.'), { wide: false }), 0);
    } else {
      flash('ok', `User ${r.username} created.`);
    }
    return true;
  });
}

async function editUser(u) {
  let teams = [];
  let member = new Set();
  let teamsError = null;
  try {
    teams = (await api('GET', '/teams' + qs({ limit: 200 }))).items || [];
    const full = await Promise.all(teams.map((t) => api('GET', `/teams/${t.id}`)));
    member = new Set(full.filter((t) => (t.members || []).some((m) => m.id === u.id)).map((t) => t.id));
  } catch (e) {
    // The rest of the user can still be edited; the teams are left as they are.
    teams = [];
    teamsError = message('error', 'The teams could not be read, so they are not changed here: ' + e.message);
  }
  const email = h('input', { type: 'email', name: 'email', value: u.email || '' });
  const role = select('role', ROLES, u.role);
  const enabled = h('input', { type: 'checkbox', name: 'enabled', checked: u.enabled });
  const pass = h('input', { type: 'password', name: 'password', autocomplete: 'new-password' });
  const boxes = teams.map((t) => {
    const cb = h('input', { type: 'checkbox', name: 'team-' + t.id, checked: member.has(t.id) });
    return { t, cb, row: h('label', { class: 'check' }, cb, ' ' + t.name) };
  });
  return formDialog(`Edit ${u.username}`, [
    h('p', { class: 'muted', text: `Last login: ${fmtTime(u.last_login_at)} from ${u.last_login_ip || '—'}` }),
    field('Email', email), field('Role', role), h('label', { class: 'check' }, enabled, ' Enabled'),
    field('New password', pass, 'Leave empty to keep the current password.'),
    h('fieldset', { class: 'teams' }, h('legend', { text: 'Teams' }), ...(teamsError ? [teamsError] : boxes.length ? boxes.map((b) => b.row) : [h('p', { class: 'muted', text: 'No teams.' })])),
  ], 'Save', async () => {
    const b = {};
    if ((email.value || '') !== (u.email || '')) b.email = email.value;
    if (role.value !== u.role) b.role = role.value;
    if (enabled.checked !== u.enabled) b.enabled = enabled.checked;
    if (pass.value) b.password = pass.value;
    if (Object.keys(b).length) await api('PATCH', `/users/${u.id}`, b);
    for (const { t, cb } of boxes) {
      if (cb.checked && !member.has(t.id)) await api('PUT', `/teams/${t.id}/members/${u.id}`);
      if (!cb.checked && member.has(t.id)) await api('DELETE', `/teams/${t.id}/members/${u.id}`);
    }
    flash('ok', `${u.username} saved.`);
    return true;
  });
}

export { message };
