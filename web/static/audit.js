// audit.js: the audit trail, newest first, with filters.
import { api, qs } from './api.js';
import { h, field, sectionHead, dataTable, actionsMenu, pager, infoDialog, detailList, fmtTime } from './ui.js';

export function render(root, ctx, params) {
  const event = h('input', { type: 'search', name: 'event', value: params.get('event') || '', placeholder: 'certificate.revoke.confirmed' });
  const actor = h('input', { type: 'search', name: 'actor', value: params.get('actor') || '', placeholder: 'user:alice' });
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter the audit trail' }, field('Event', event), field('Actor', actor),
    h('button', { type: 'submit', class: 'btn', text: 'Apply filters' }));
  const list = h('div');
  root.append(sectionHead('Audit trail'), form, list);
  const pg = pager((after) => api('GET', '/audit' + qs({ event: event.value.trim(), actor: actor.value.trim(), limit: 50, after })), (items) => dataTable('audit', [
    { key: 'at', label: 'Time', render: (a) => fmtTime(a.at || a.time || a.created_at) },
    { key: 'actor', label: 'Actor' },
    { key: 'ip', label: 'IP' },
    { key: 'event', label: 'Event' },
    { key: 'object', label: 'Object' },
    { key: 'details', label: 'Details', default: false },
    { key: 'hash', label: 'Hash', default: false },
  ], items, (a) => actionsMenu(`audit row ${a.id}`, [{ label: 'Details', run: () => infoDialog(`Audit row ${a.id}`, detailList(a)) }]), 'No audit rows.'), list);
  form.addEventListener('submit', (ev) => { ev.preventDefault(); pg.reload(); });
  root.append(pg.bar);
}
