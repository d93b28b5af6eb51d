// cas.js: the CAs section: table with a remembered column chooser, create root/intermediate,
// import, and per-row actions (edit, delete, SCEP settings, key rollover, the CA's
// certificates/CRLs/SCEP logs, trust chain, CA certificate, private key, current CRL).
import { api, qs } from './api.js';
import {
  h, field, select, sectionHead, button, dataTable, actionsMenu, pager, formDialog, confirmDialog,
  loadingDialog, pre, detailList, badge, fmtTime, download, fileToBase64, flash, message,
} from './ui.js';
import { showCrl } from './crls.js';
import { scepSettingsDialog } from './scep_settings.js';
import { rolloverItems, rolloverBadge, nextDetails } from './rollover.js';

const KEYS = [['rsa-2048', 'RSA 2048'], ['rsa-3072', 'RSA 3072'], ['rsa-4096', 'RSA 4096'], ['ec-256', 'EC P-256'], ['ec-384', 'EC P-384']];

const COLUMNS = [
  { key: 'name', label: 'Name' },
  { key: 'slug', label: 'URL name' },
  { key: 'kind', label: 'Kind' },
  { key: 'parent', label: 'Parent' },
  { key: 'key', label: 'Key' },
  { key: 'status', label: 'Status', render: (c) => [badge(c.status), c.next ? ' ' : null, rolloverBadge(c)] },
  { key: 'valid_to', label: 'Valid to', render: (c) => fmtTime(c.valid_to) },
  { key: 'subject', label: 'Subject', default: false },
  { key: 'crl_number', label: 'CRL number', default: false },
  { key: 'scep_enabled', label: 'SCEP', default: false, render: (c) => (c.scep_enabled ? 'enabled' : 'disabled') },
  { key: 'keyref', label: 'Key reference', default: false },
  { key: 'created_at', label: 'Created', default: false, render: (c) => fmtTime(c.created_at) },
];

// Every CA the caller may see (for selects elsewhere); one page of 200 is plenty for CAs.
export async function listCas() {
  const r = await api('GET', '/cas' + qs({ limit: 200 }));
  return r.items || [];
}

export function showCaCertificate(id, label) {
  return loadingDialog(`CA certificate${label ? ' of ' + label : ''}`, async () => {
    const [ca, pem] = await Promise.all([api('GET', `/cas/${id}`), api('GET', `/cas/${id}/certificate`)]);
    const { next, ...current } = ca;
    return [detailList(current), pre(pem, 'CA certificate PEM'),
      button('Download PEM', () => download(`${ca.slug || 'ca'}.pem`, pem, 'application/x-pem-file')),
      ...(next ? [h('h3', { text: 'Pending rollover: the next CA certificate' }), ...nextDetails(ca, next)] : [])];
  });
}

export function render(root, ctx) {
  const list = h('div');
  let pg;
  const head = sectionHead('Certificate authorities',
    ctx.isAdmin ? button('Create CA', () => createCa(ctx).then((ok) => ok && pg.reload()), { change: true, primary: true }) : null,
    ctx.isAdmin ? button('Import CA', () => importCa().then((ok) => ok && pg.reload()), { change: true }) : null);
  const body = h('div');
  root.append(head, body);
  pg = pager((after) => api('GET', '/cas' + qs({ limit: 50, after })), (items) => dataTable('cas', COLUMNS, items,
    (ca) => rowActions(ca, ctx, () => pg.reload()), ctx.isAdmin ? 'No CA yet. Create a root CA to start.' : 'None of your teams is granted a CA.'), list);
  body.append(list, pg.bar);
}

function rowActions(ca, ctx, reload) {
  return actionsMenu(ca.name, [
    ctx.isAdmin && { label: 'Edit', change: true, run: () => editCa(ca).then((ok) => ok && reload()) },
    ctx.isAdmin && { label: 'Delete', change: true, danger: true, run: () => deleteCa(ca).then((ok) => ok && reload()) },
    { label: 'SCEP settings', change: ctx.canIssue, run: () => scepSettingsDialog(ca, ctx.canIssue).then((ok) => ok && reload()) },
    ...rolloverItems(ca, ctx, reload, KEYS),
    { label: "CA's certificates", run: () => ctx.go(`#/certificates?ca=${ca.id}`) },
    { label: "CA's CRLs", run: () => ctx.go(`#/crls?ca=${ca.id}`) },
    { label: "CA's logs", run: () => ctx.go(`#/logs?tab=scep&ca=${ca.id}`) },
    ca.parent_id && { label: 'Show CA certificate trust chain', run: () => loadingDialog(`Trust chain of ${ca.name}`, async () => pre(await api('GET', `/cas/${ca.id}/chain`), 'Chain PEM')) },
    { label: 'Show CA certificate', run: () => showCaCertificate(ca.id, ca.name) },
    ctx.isAdmin && { label: 'Show CA private key', run: () => showPrivateKey(ca) },
    { label: 'Show CRL', run: () => latestCrl(ca) },
  ]);
}

// The PEM only for an exportable key; a key held non-extractable on the token (every CA key
// this appliance makes or imports) is the normal case, so it reads as information, not an error.
function showPrivateKey(ca) {
  return loadingDialog(`Private key of ${ca.name}`, async () => {
    try {
      return pre(await api('GET', `/cas/${ca.id}/private-key`), 'Private key PEM');
    } catch (e) {
      if (e.code === 'conflict') return message('info', e.message);
      throw e;
    }
  });
}

async function latestCrl(ca) {
  try {
    const r = await api('GET', `/cas/${ca.id}/crls` + qs({ limit: 1 }));
    const first = (r.items || [])[0];
    if (!first) {
      flash('info', `${ca.name} has not published a CRL yet.`);
      return;
    }
    showCrl(first.id, ca.name);
  } catch (e) {
    flash('error', e.message);
  }
}

async function createCa(ctx) {
  const cas = await listCas().catch(() => []);
  const name = h('input', { type: 'text', name: 'name', required: true, maxlength: '64' });
  const kind = select('kind', [['root', 'Root CA (self-signed)'], ['intermediate', 'Intermediate CA (signed by a parent)']], 'root');
  const parent = select('parent', cas.map((c) => [c.slug, `${c.name} (${c.slug})`]), '');
  const parentRow = field('Parent CA', parent);
  parentRow.hidden = true;
  kind.addEventListener('change', () => { parentRow.hidden = kind.value !== 'intermediate'; });
  const key = select('key', KEYS, 'ec-256');
  const days = h('input', { type: 'number', name: 'days', min: '1', max: '36500', value: '3650' });
  return formDialog('Create CA', [field('Name', name), field('Type', kind), parentRow, field('Key type', key),
    field('Validity (days)', days, 'The key is generated on the token and never leaves it.')], 'Create CA', async () => {
    const b = { name: name.value, key: key.value, days: Number(days.value) };
    if (kind.value === 'intermediate') {
      if (!parent.value) throw new Error('Choose the parent CA of the intermediate.');
      b.parent = parent.value;
    }
    const r = await api('POST', '/cas', b);
    flash('ok', `CA ${r.name || b.name} created.`);
    return true;
  });
}

function importCa() {
  const name = h('input', { type: 'text', name: 'name', required: true });
  const cert = h('textarea', { name: 'certificate', rows: '5', placeholder: '-----BEGIN CERTIFICATE-----' });
  const key = h('textarea', { name: 'key', rows: '5', placeholder: '-----BEGIN PRIVATE KEY-----' });
  const p12 = h('input', { type: 'file', name: 'pkcs12', accept: '.p12,.pfx' });
  const pass = h('input', { type: 'password', name: 'password', autocomplete: 'off' });
  return formDialog('Import CA', [field('Name', name), field('CA certificate (PEM)', cert),
    field('Private key (PEM)', key, 'Stored non-extractable on the token.'), h('p', { class: 'muted', text: 'Or a PKCS#12 file:' }),
    field('PKCS#12 file', p12), field('PKCS#12 password', pass)], 'Import', async () => {
    const b = { name: name.value };
    if (p12.files && p12.files[0]) {
      b.pkcs12 = await fileToBase64(p12.files[0]);
      if (pass.value) b.password = pass.value;
    } else {
      b.certificate = cert.value;
      if (key.value) b.key = key.value;
    }
    await api('POST', '/cas/import', b);
    flash('ok', `CA ${b.name} imported.`);
    return true;
  });
}

function editCa(ca) {
  const name = h('input', { type: 'text', name: 'name', value: ca.name });
  const status = select('status', ['active', 'disabled'], ca.status);
  const crl = h('input', { type: 'number', name: 'crl_validity_days', min: '0', max: '3650', value: ca.crl_validity_days ?? '' });
  return formDialog(`Edit ${ca.name}`, [field('Name', name), field('Status', status), field('CRL validity (days)', crl, 'Empty: the appliance default.')],
    'Save', async () => {
      const b = {};
      if (name.value !== ca.name) b.name = name.value;
      if (status.value !== ca.status) b.status = status.value;
      if (crl.value !== '' && Number(crl.value) !== ca.crl_validity_days) b.crl_validity_days = Number(crl.value);
      await api('PATCH', `/cas/${ca.id}`, b);
      flash('ok', `${ca.name} saved.`);
      return true;
    });
}

function deleteCa(ca) {
  const force = h('input', { type: 'checkbox', name: 'force' });
  const delKey = h('input', { type: 'checkbox', name: 'delete_key' });
  return formDialog(`Delete ${ca.name}?`, [
    h('p', { text: `The CA ${ca.name} (${ca.slug}) will be removed. This cannot be undone.` }),
    h('label', { class: 'check' }, force, ' Delete even while it has valid certificates'),
    h('label', { class: 'check' }, delKey, ' Also delete its key from the token'),
  ], 'Delete CA', async () => {
    await api('DELETE', `/cas/${ca.id}` + qs({ force: force.checked ? 'true' : '', delete_key: delKey.checked ? 'true' : '' }));
    flash('ok', `${ca.name} deleted.`);
    return true;
  }, { danger: true });
}

export { message, confirmDialog };
