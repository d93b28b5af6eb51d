// orders.js: the Orders section: every issuance request with its type, status, requester and
// duration; failed orders show their error and the original request parameters.
import { api, qs } from './api.js';
import { h, field, select, sectionHead, dataTable, actionsMenu, pager, loadingDialog, detailList, badge, fmtTime, message } from './ui.js';

export function render(root, ctx, params) {
  const status = select('status', [['', 'Any status'], 'pending', 'processing', 'complete', 'failed'], params.get('status') || '');
  const type = select('type', [['', 'Any type'], 'local', 'csr', 'scep', 'renewal'], params.get('type') || '');
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter orders' }, field('Status', status), field('Type', type),
    h('button', { type: 'submit', class: 'btn', text: 'Apply filters' }));
  const list = h('div');
  root.append(sectionHead('Orders'), form, list);
  const pg = pager((after) => api('GET', '/orders' + qs({ status: status.value, type: type.value, limit: 50, after })), (items) => dataTable('orders', [
    { key: 'id', label: 'Order' },
    { key: 'common_name', label: 'Common name' },
    { key: 'type', label: 'Type' },
    { key: 'status', label: 'Status', render: (o) => badge(o.status) },
    { key: 'requested_by', label: 'Requested by' },
    { key: 'started_at', label: 'Started', render: (o) => fmtTime(o.started_at || o.created_at) },
    { key: 'duration_ms', label: 'Duration (ms)' },
    { key: 'error', label: 'Error', default: false },
  ], items, (o) => actionsMenu(`order ${o.id}`, [{ label: o.status === 'failed' ? 'Show failure details' : 'Details', run: () => loadingDialog(`Order ${o.id}`, async () => {
    const d = await api('GET', `/orders/${o.id}`);
    return [d.status === 'failed' && d.error ? message('error', String(d.error)) : null, detailList(d)].filter(Boolean);
  }) }]), 'No order yet.'), list);
  form.addEventListener('submit', (ev) => { ev.preventDefault(); pg.reload(); });
  root.append(pg.bar);
}
