// logs.js: login attempts and SCEP exchanges (all CAs, or one CA's), with "Show content" for the
// decoded SCEP request.
import { api, qs } from './api.js';
import { h, field, sectionHead, dataTable, actionsMenu, pager, loadingDialog, detailList, badge, fmtTime, pre, message } from './ui.js';

export function render(root, ctx, params) {
  // Login attempts are for administrators and auditors; an operator sees the SCEP logs of
  // their teams' CAs only.
  const logins = ctx.isAdmin || ctx.readOnly;
  const tab = params.get('tab') === 'scep' || !logins ? 'scep' : 'login';
  // Two links, not an ARIA tab list: each is its own page (its own URL), and links need no
  // arrow-key handling.
  const tabs = h('nav', { class: 'tabs', 'aria-label': 'Logs' },
    logins ? h('a', { href: '#/logs?tab=login', 'aria-current': tab === 'login' ? 'page' : null, text: 'Login attempts' }) : null,
    h('a', { href: '#/logs?tab=scep', 'aria-current': tab === 'scep' ? 'page' : null, text: 'SCEP logs' }));
  root.append(sectionHead('Logs'), tabs);
  if (tab === 'login') loginAttempts(root, params); else scepLogs(root, params);
}

function loginAttempts(root, params) {
  const user = h('input', { type: 'search', name: 'username', value: params.get('username') || '' });
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter login attempts' }, field('Username', user),
    h('button', { type: 'submit', class: 'btn', text: 'Apply filters' }));
  const list = h('div');
  root.append(form, list);
  const pg = pager((after) => api('GET', '/logs/login-attempts' + qs({ username: user.value.trim(), limit: 50, after })), (items) => dataTable('login-attempts', [
    { key: 'at', label: 'Time', render: (a) => fmtTime(a.at) },
    { key: 'username', label: 'Username' },
    { key: 'ip', label: 'IP' },
    { key: 'result', label: 'Result', render: (a) => badge(a.result || (a.success ? 'success' : 'failure')) },
    { key: 'reason', label: 'Reason' },
  ], items, null, 'No login attempts.'), list);
  form.addEventListener('submit', (ev) => { ev.preventDefault(); pg.reload(); });
  root.append(pg.bar);
}

function scepLogs(root, params) {
  const ca = params.get('ca');
  const list = h('div');
  if (ca) {
    const name = h('span', { text: `CA ${ca}` });
    root.append(h('p', { class: 'muted' }, 'SCEP exchanges of ', name, '. ', h('a', { href: '#/logs?tab=scep', text: 'Show every CA' })));
    api('GET', `/cas/${encodeURIComponent(ca)}`).then((c) => { name.textContent = c.name; }).catch(() => {});
  }
  root.append(list);
  const path = ca ? `/cas/${encodeURIComponent(ca)}/scep-logs` : '/logs/scep';
  const pg = pager((after) => api('GET', path + qs({ limit: 50, after })), (items) => dataTable('scep-logs', [
    { key: 'at', label: 'Time', render: (l) => fmtTime(l.at || l.time || l.created_at) },
    { key: 'peer', label: 'Peer IP', render: (l) => l.peer || l.peer_ip || '—' },
    { key: 'ca', label: 'CA', render: (l) => String(l.ca || l.ca_id || '—') },
    { key: 'message_type', label: 'Message' },
    { key: 'transaction_id', label: 'Transaction', default: false },
    { key: 'result', label: 'Result', render: (l) => badge(l.result) },
    { key: 'fail_info', label: 'Fail info' },
  ], items, (l) => actionsMenu(`SCEP exchange ${l.id}`, [{ label: 'Show content', run: () => loadingDialog(`SCEP exchange ${l.id}`, async () => {
    const d = await api('GET', `/logs/scep/${l.id}`);
    const { content, request, decoded, request_der_base64: der, ...rest } = d;
    const body = content || decoded || request;
    // The decoded request reads as fields (a refused one as its reason); the raw bytes follow.
    const shown = !body ? null : typeof body === 'string' ? pre(body, 'Request content')
      : body.error && Object.keys(body).length === 1 ? message('error', body.error) : detailList(body);
    return [detailList(rest), h('h3', { text: 'Content' }), shown || h('p', { class: 'muted', text: 'No content was recorded.' }),
      der ? pre(der, 'Request (DER, base64)') : null].filter(Boolean);
  }) }]), 'No SCEP exchange yet.'), list);
  root.append(pg.bar);
}
