// app.js: boots the console: who am I (GET /auth/me), the login flow when not logged in, the
// navigation and the hash router (#/cas, #/certificates?ca=3 ...). Each section is its own module,
// loaded on first use so the first paint stays small.
import { api, setCsrf, setUnauthenticatedHandler } from './api.js';
import { h, flash, button } from './ui.js';
import { showLogin, changePasswordForm } from './login.js';
import { accountMenu } from './account.js';

const SECTIONS = [
  { id: 'cas', label: 'CAs', mod: './cas.js' },
  { id: 'certificates', label: 'Certificates', mod: './certs.js' },
  { id: 'crls', label: 'CRLs', mod: './crls.js' },
  { id: 'orders', label: 'Orders', mod: './orders.js' },
  { id: 'logs', label: 'Logs', mod: './logs.js' },
  { id: 'audit', label: 'Audit', mod: './audit.js', roles: ['admin', 'auditor'] },
  { id: 'users', label: 'Users', mod: './users.js', roles: ['admin', 'auditor'] },
  { id: 'teams', label: 'Teams', mod: './teams.js', roles: ['admin', 'auditor'] },
  { id: 'scep-auth', label: 'SCEP authentication', mod: './scep.js' },
];

const main = document.getElementById('main');
const ctx = { me: null };

function role() { return ctx.me ? ctx.me.role : ''; }

// What the signed-in role may do; the server checks every call anyway.
function makeCtx(me) {
  return {
    me,
    isAdmin: me.role === 'admin',
    canIssue: me.role === 'admin' || me.role === 'operator',
    readOnly: me.role === 'auditor',
    go: (hash) => { location.hash = hash; },
  };
}

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [id, q] = raw.split('?');
  return { id: id || 'cas', params: new URLSearchParams(q || '') };
}

function drawNav(current) {
  const nav = document.getElementById('nav');
  const ul = h('ul');
  for (const s of SECTIONS) {
    if (s.roles && !s.roles.includes(role())) continue;
    ul.append(h('li', {}, h('a', { href: '#/' + s.id, 'aria-current': s.id === current ? 'page' : null, text: s.label })));
  }
  nav.replaceChildren(ul);
}

async function route() {
  // A forced password change or TOTP enrolment comes first: a section link must not skip it.
  if (!ctx.me || ctx.me.must_change_password || ctx.me.totp_enrollment_required) return;
  const { id, params } = parseHash();
  const sec = SECTIONS.find((s) => s.id === id && (!s.roles || s.roles.includes(role()))) || SECTIONS[0];
  drawNav(sec.id);
  document.getElementById('status').replaceChildren();
  document.title = sec.label + ' · hsmca';
  const root = h('section', { class: 'section', id: 'sec-' + sec.id, 'aria-label': sec.label });
  main.replaceChildren(root);
  try {
    const mod = await import(sec.mod);
    await mod.render(root, ctx.c, params);
  } catch (e) {
    root.replaceChildren(h('p', { class: 'msg msg-error', role: 'alert', text: e.message || String(e) }));
  }
}

async function loggedIn(me) {
  ctx.me = me;
  ctx.c = makeCtx(me);
  document.getElementById('top').hidden = false;
  document.getElementById('account').replaceChildren(accountMenu(ctx.c, logout));
  if (me.must_change_password) {
    main.replaceChildren(changePasswordForm(true, () => start()));
    return;
  }
  if (me.totp_enrollment_required) {
    const { totpEnrolForm } = await import('./login.js');
    main.replaceChildren(totpEnrolForm(() => start()));
    return;
  }
  await route();
  main.focus();
}

async function logout() {
  try { await api('POST', '/auth/logout', {}); } catch (e) { /* the session may be gone already */ }
  setCsrf('');
  ctx.me = null;
  showLoggedOut('You are logged out.');
}

function showLoggedOut(msg) {
  ctx.me = null;
  document.getElementById('top').hidden = true;
  document.getElementById('nav').replaceChildren();
  document.getElementById('account').replaceChildren();
  showLogin(main, msg, () => start());
}

async function start() {
  // The section named by the address starts evaluating while GET /auth/me is in flight instead
  // of after it. Only the module: what it shows still waits for the role.
  const guess = SECTIONS.find((s) => s.id === parseHash().id) || SECTIONS[0];
  import(guess.mod).catch(() => {});
  try {
    const me = await api('GET', '/auth/me');
    await loggedIn(me);
  } catch (e) {
    if (e.status === 401 || e.status === 403) showLoggedOut(e.status === 403 ? e.message : '');
    else main.replaceChildren(h('p', { class: 'msg msg-error', role: 'alert', text: e.message }),
      button('Try again', () => start()));
  }
}

setUnauthenticatedHandler((e) => {
  if (ctx.me) {
    setCsrf('');
    showLoggedOut('Your session has ended: ' + e.message);
  }
});

window.addEventListener('hashchange', () => { route(); });
// Close an open "Actions" menu when clicking elsewhere.
document.addEventListener('click', (ev) => {
  for (const d of document.querySelectorAll('details.menu[open], details.cols[open]'))
    if (!d.contains(ev.target)) d.open = false;
});
start().catch((e) => flash('error', e.message));
