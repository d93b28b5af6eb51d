// certs.js: the certificate inventory: filters (source, status, CA, expiring within N days, text),
// visible columns, status badges, days until expiry, detail view, row actions, and "Request
// certificate" (CSR upload or server-side key generation).
import { api, qs } from './api.js';
import {
  h, field, select, sectionHead, button, dataTable, actionsMenu, pager, formDialog, loadingDialog, pre,
  detailList, badge, fmtTime, download, flash, message,
} from './ui.js';
import { listCas, showCaCertificate } from './cas.js';
import { revokeDialog, pfxDialog } from './revoke.js';

const COLUMNS = [
  { key: 'common_name', label: 'Common name' },
  { key: 'status', label: 'Status', render: (c) => badge(c.status) },
  { key: 'ca', label: 'CA' },
  { key: 'valid_to', label: 'Valid to', render: (c) => fmtTime(c.valid_to) },
  { key: 'days_until_expiry', label: 'Days left', render: (c) => daysLeft(c) },
  { key: 'serial', label: 'Serial', default: false },
  { key: 'sans', label: 'SANs' },
  { key: 'source', label: 'Source', default: false },
  { key: 'algorithm', label: 'Key', default: false },
  { key: 'issuer', label: 'Issuer', default: false },
  { key: 'fingerprint_sha256', label: 'SHA-256 fingerprint', default: false },
  { key: 'tags', label: 'Tags', default: false },
];

function daysLeft(c) {
  const d = c.days_until_expiry;
  if (d === null || d === undefined) return '—';
  const cls = d < 0 ? 'days expired' : d <= 30 ? 'days soon' : 'days';
  return h('span', { class: cls, text: String(d) });
}

const LABELS = {
  common_name: 'Common name', sans: 'Subject alternative names', fingerprint_sha256: 'SHA-256 fingerprint',
  valid_from: 'Valid from', valid_to: 'Valid to', days_until_expiry: 'Days until expiry', key_on_token: 'Key on the token',
  ca: 'CA (URL name)', ca_id: 'CA id',
};

export function showCertificate(id) {
  return loadingDialog('Certificate', async () => {
    const [c, pem] = await Promise.all([api('GET', `/certificates/${id}`), api('GET', `/certificates/${id}/pem`)]);
    return [detailList(c, LABELS), pre(pem, 'Certificate PEM')];
  });
}

export async function render(root, ctx, params) {
  // The first page is asked for at once, beside the CA names the filter needs, instead of after
  // them: one round trip less before the table paints.
  const initial = {
    source: params.get('source') || '', status: params.get('status') || '', ca: params.get('ca') || '',
    expiring_within_days: params.get('expiring_within_days') || '', q: (params.get('q') || '').trim(),
  };
  const pageUrl = (query, after) => '/certificates' + qs({ ...query, limit: 50, after });
  let early = { url: pageUrl(initial, ''), reply: api('GET', pageUrl(initial, '')) };
  early.reply.catch(() => {});
  const cas = await listCas().catch(() => []);
  const f = {
    source: select('source', [['', 'Any source'], ['managed', 'Managed'], ['discovered', 'Discovered']], params.get('source') || ''),
    status: select('status', [['', 'Any status'], ['active', 'Active'], ['expired', 'Expired'], ['revoked', 'Revoked']], params.get('status') || ''),
    // A CA asked for by the link but not in the caller's list (deleted, or not theirs) stays the
    // filter, so the API's refusal is shown instead of every certificate silently.
    ca: select('ca', [['', 'Any CA'], ...cas.map((c) => [String(c.id), c.name]),
      ...(initial.ca && !cas.some((c) => String(c.id) === initial.ca) ? [[initial.ca, `CA ${initial.ca}`]] : [])], initial.ca),
    expiring: h('input', { type: 'number', name: 'expiring_within_days', min: '0', max: '36500', value: params.get('expiring_within_days') || '' }),
    q: h('input', { type: 'search', name: 'q', value: params.get('q') || '', placeholder: 'Common name or SAN' }),
  };
  const filters = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter certificates' },
    field('Source', f.source), field('Status', f.status), field('CA', f.ca), field('Expiring within (days)', f.expiring), field('Search', f.q),
    h('button', { type: 'submit', class: 'btn', text: 'Apply filters' }));
  const list = h('div');
  const body = h('div');
  root.append(sectionHead('Certificates',
    ctx.canIssue ? button('Request certificate', () => requestDialog(cas, f.ca.value).then((r) => r && pg.reload()), { change: true, primary: true }) : null),
  filters, body);
  let query = currentQuery();
  function currentQuery() {
    return { source: f.source.value, status: f.status.value, ca: f.ca.value, expiring_within_days: f.expiring.value, q: f.q.value.trim() };
  }
  const pg = pager((after) => {
    const url = pageUrl(query, after);
    if (early && early.url === url) {
      const r = early.reply;
      early = null;
      return r;
    }
    early = null;
    return api('GET', url);
  },
    (items) => dataTable('certificates', COLUMNS, items, (c) => rowActions(c, ctx, () => pg.reload()), 'No certificate matches.'), list);
  filters.addEventListener('submit', (ev) => {
    ev.preventDefault();
    query = currentQuery();
    pg.reload();
  });
  body.append(list, pg.bar);
}

function rowActions(c, ctx, reload) {
  const issued = c.source !== 'discovered';
  return actionsMenu(c.common_name || c.serial, [
    { label: 'Certificate', run: () => showCertificate(c.id) },
    c.ca_id && { label: 'Show CA certificate', run: () => showCaCertificate(c.ca_id, c.ca) },
    ctx.canIssue && issued && c.status !== 'revoked' && { label: 'Revoke', change: true, danger: true, run: () => revokeDialog(c).then((ok) => ok && reload()) },
    { label: 'Download PEM', run: () => downloadPem(c) },
    ctx.canIssue && c.key_on_token && { label: 'Download PFX', change: true, run: () => pfxDialog(c) },
  ]);
}

async function downloadPem(c) {
  try {
    const pem = await api('GET', `/certificates/${c.id}/pem`);
    download(`${(c.common_name || c.serial || 'certificate').replace(/[^A-Za-z0-9._-]/g, '_')}.pem`, pem, 'application/x-pem-file');
  } catch (e) {
    flash('error', e.message);
  }
}

function requestDialog(cas, caId) {
  const ca = select('ca', cas.map((c) => [c.slug, c.name]), (cas.find((c) => String(c.id) === caId) || {}).slug);
  const mode = select('mode', [['keygen', 'Generate the key on the appliance (PFX download possible)'], ['csr', 'Upload a CSR']], 'keygen');
  const key = select('key', [['rsa-2048', 'RSA 2048'], ['rsa-3072', 'RSA 3072'], ['rsa-4096', 'RSA 4096'], ['ec-256', 'EC P-256'], ['ec-384', 'EC P-384']], 'rsa-2048');
  const subject = h('input', { type: 'text', name: 'subject', placeholder: 'CN=www.example.com' });
  const sans = h('textarea', { name: 'sans', rows: '2', placeholder: 'DNS:www.example.com' });
  const csr = h('textarea', { name: 'csr', rows: '6', placeholder: '-----BEGIN CERTIFICATE REQUEST-----' });
  const csrFile = h('input', { type: 'file', name: 'csr_file', accept: '.csr,.pem,.req' });
  const profile = select('profile', [['server', 'TLS server'], ['client', 'TLS client']], 'server');
  const days = h('input', { type: 'number', name: 'days', min: '1', max: '3650', value: '365' });
  const keyRows = [field('Key type', key), field('Subject', subject, 'For example CN=www.example.com,O=Example'), field('Subject alternative names', sans, 'One per line or comma-separated: DNS:name, IP:address, email:address.')];
  const csrRows = [field('CSR (PEM)', csr), field('Or a CSR file', csrFile)];
  const sync = () => {
    for (const r of keyRows) r.hidden = mode.value !== 'keygen';
    for (const r of csrRows) r.hidden = mode.value !== 'csr';
  };
  mode.addEventListener('change', sync);
  sync();
  csrFile.addEventListener('change', async () => {
    if (csrFile.files[0]) csr.value = await csrFile.files[0].text();
  });
  return formDialog('Request certificate', [field('CA', ca), field('How', mode), ...keyRows, ...csrRows, field('Profile', profile), field('Validity (days)', days)],
    'Request', async () => {
      if (!ca.value) throw new Error('Choose a CA. If the list is empty, you may issue on no CA.');
      const b = { ca: ca.value, profile: profile.value, days: Number(days.value) };
      if (mode.value === 'keygen') {
        b.key = key.value;
        b.subject = subject.value.trim();
        const s = sans.value.split(/[\n,]+/).map((x) => x.trim()).filter(Boolean);
        if (s.length) b.sans = s;
      } else {
        b.csr = csr.value;
      }
      const r = await api('POST', '/certificates', b);
      flash('ok', `Certificate ${r.common_name || r.serial || ''} issued.`);
      return r;
    });
}

export { message };
