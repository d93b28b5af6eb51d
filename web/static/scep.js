// scep.js: the SCEP section: requests waiting for manual approval (scep_requests.js), then the
// authentication entries (the challenge or HTTP Basic credentials SCEP clients present): create
// (the secret is shown once), enable/disable, delete.
import { api, qs } from './api.js';
import { h, field, select, sectionHead, button, dataTable, actionsMenu, pager, formDialog, infoDialog, secretBox, badge, fmtTime, flash } from './ui.js';
import { listCas } from './cas.js';
import { pendingRequests } from './scep_requests.js';

export function render(root, ctx) {
  const list = h('div');
  let pg;
  root.append(sectionHead('SCEP authentication', ctx.canIssue ? button('Create entry', () => create().then((ok) => ok && pg.reload()), { change: true, primary: true }) : null),
    pendingRequests(ctx), h('h2', { class: 'sub', text: 'Authentication entries' }),
    h('p', { class: 'muted', text: 'A SCEP client presents an entry as its CSR challengePassword, or as HTTP Basic credentials (name and secret) on the SCEP URL.' }), list);
  pg = pager((after) => api('GET', '/scep-auth' + qs({ limit: 50, after })), (items) => dataTable('scep-auth', [
    { key: 'name', label: 'Name' },
    { key: 'ca', label: 'CA' },
    { key: 'enabled', label: 'State', render: (a) => badge(a.enabled ? 'enabled' : 'disabled') },
    { key: 'one_time', label: 'Use', render: (a) => (a.one_time || a.reusable === false ? 'one-time' : 'reusable') },
    { key: 'expires_at', label: 'Expires', render: (a) => fmtTime(a.expires_at) },
    { key: 'use_count', label: 'Uses' },
    { key: 'created_at', label: 'Created', default: false, render: (a) => fmtTime(a.created_at) },
  ], items, ctx.canIssue ? (a) => actionsMenu(a.name, [
    { label: a.enabled ? 'Disable' : 'Enable', change: true, run: async () => {
      try { await api('PATCH', `/scep-auth/${a.id}`, { enabled: !a.enabled }); pg.reload(); } catch (e) { flash('error', e.message); }
    } },
    { label: 'Delete', change: true, danger: true, run: () => formDialog(`Delete ${a.name}?`, [h('p', { text: 'Clients using it can no longer enroll.' })], 'Delete',
      async () => { await api('DELETE', `/scep-auth/${a.id}`); }, { danger: true }).then((ok) => ok && pg.reload()) },
  ]) : null, 'No SCEP authentication entries.'), list);
  root.append(pg.bar);
}

async function create() {
  const cas = await listCas().catch(() => []);
  const name = h('input', { type: 'text', name: 'name', maxlength: '64' });
  const ca = select('ca', cas.map((c) => [c.slug, c.name]), '');
  const oneTime = h('input', { type: 'checkbox', name: 'one_time' });
  return formDialog('Create SCEP authentication entry', [field('Name', name), field('CA', ca), h('label', { class: 'check' }, oneTime, ' One-time (used up by one enrollment)')],
    'Create', async () => {
      const r = await api('POST', '/scep-auth', { name: name.value.trim(), ca: ca.value, one_time: oneTime.checked });
      setTimeout(() => infoDialog(`SCEP entry ${r.name || name.value}`, secretBox('Secret', r.secret, 'Copy it now: it cannot be shown again.'), { wide: false }), 0);
      return true;
    });
}
