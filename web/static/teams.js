// teams.js: teams with their members and CAs; an admin creates, renames, deletes teams and
// grants or withdraws CAs.
import { api, qs } from './api.js';
import { h, field, sectionHead, button, dataTable, actionsMenu, pager, formDialog, flash, message } from './ui.js';

export function render(root, ctx) {
  const list = h('div');
  let pg;
  root.append(sectionHead('Teams', ctx.isAdmin ? button('Create team', () => editTeam(null).then((ok) => ok && pg.reload()), { change: true, primary: true }) : null), list);
  pg = pager(async (after) => {
    const r = await api('GET', '/teams' + qs({ limit: 50, after }));
    // Members and CAs come with each team's detail; a page holds few teams.
    r.items = await Promise.all((r.items || []).map((t) => api('GET', `/teams/${t.id}`).catch(() => t)));
    return r;
  }, (items) => dataTable('teams', [
    { key: 'name', label: 'Team' },
    { key: 'description', label: 'Description' },
    { key: 'cas', label: 'CAs', render: (t) => (t.cas || []).map((c) => c.slug || c.name).join(', ') || '—' },
    { key: 'members', label: 'Members', render: (t) => (t.members || []).map((m) => m.username).join(', ') || '—' },
  ], items, ctx.isAdmin ? (t) => actionsMenu(t.name, [
    { label: 'Edit', change: true, run: () => editTeam(t).then((ok) => ok && pg.reload()) },
    { label: 'CAs of the team', change: true, run: () => teamCas(t).then((ok) => ok && pg.reload()) },
    { label: 'Delete', change: true, danger: true, run: () => formDialog(`Delete team ${t.name}?`, [h('p', { text: 'Its members lose the CAs granted through it.' })], 'Delete team',
      async () => { await api('DELETE', `/teams/${t.id}`); flash('ok', `Team ${t.name} deleted.`); }, { danger: true }).then((ok) => ok && pg.reload()) },
  ]) : null, 'No teams.'), list);
  root.append(pg.bar);
}

function editTeam(t) {
  const name = h('input', { type: 'text', name: 'name', value: t ? t.name : '', maxlength: '64' });
  const desc = h('input', { type: 'text', name: 'description', value: t ? t.description || '' : '', maxlength: '512' });
  return formDialog(t ? `Edit team ${t.name}` : 'Create team', [field('Name', name), field('Description', desc)], t ? 'Save' : 'Create team', async () => {
    if (t) await api('PATCH', `/teams/${t.id}`, { name: name.value, description: desc.value });
    else await api('POST', '/teams', { name: name.value, description: desc.value });
    flash('ok', `Team ${name.value} saved.`);
  });
}

async function teamCas(t) {
  let cas = [];
  try { cas = (await api('GET', '/cas' + qs({ limit: 200 }))).items || []; } catch (e) { flash('error', e.message); return false; }
  const has = new Set((t.cas || []).map((c) => c.id));
  const boxes = cas.map((c) => {
    const cb = h('input', { type: 'checkbox', name: 'ca-' + c.id, checked: has.has(c.id) });
    return { c, cb, row: h('label', { class: 'check' }, cb, ' ' + c.name) };
  });
  return formDialog(`CAs of ${t.name}`, [h('fieldset', {}, h('legend', { text: 'Members may issue and revoke on:' }),
    ...(boxes.length ? boxes.map((b) => b.row) : [h('p', { class: 'muted', text: 'No CA yet.' })]))], 'Save', async () => {
    for (const { c, cb } of boxes) {
      if (cb.checked && !has.has(c.id)) await api('PUT', `/teams/${t.id}/cas/${c.id}`);
      if (!cb.checked && has.has(c.id)) await api('DELETE', `/teams/${t.id}/cas/${c.id}`);
    }
    flash('ok', `CAs of ${t.name} saved.`);
  });
}

export { message };
