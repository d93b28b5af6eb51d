// crls.js: the CRLs section: pick a CA, list its published CRLs (newest first), show one
// (number, this/next update and every revoked entry), publish a new one now.
import { api, qs } from './api.js';
import { h, field, select, sectionHead, button, dataTable, actionsMenu, pager, loadingDialog, detailList, fmtTime, flash, message } from './ui.js';

export function showCrl(id, caName) {
  return loadingDialog(`CRL${caName ? ' of ' + caName : ''}`, async () => {
    const crl = await api('GET', `/crls/${id}`);
    // "revoked" is the parsed list (null when the CRL is too old or too large to parse here);
    // "entries" is the count.
    const entries = Array.isArray(crl.revoked) ? crl.revoked : [];
    const { revoked: _r, next: _n, ...rest } = crl;
    const out = [detailList(rest)];
    out.push(h('h3', { text: `Revoked certificates (${crl.entries ?? entries.length})` }));
    if (crl.entries_truncated) out.push(h('p', { class: 'muted', text: `The first ${entries.length} entries are shown.` }));
    if (Array.isArray(entries) && entries.length) {
      out.push(dataTable('crl-entries', [
        { key: 'serial', label: 'Serial' },
        { key: 'revoked_at', label: 'Revoked at', render: (e) => fmtTime(e.revoked_at || e.revocation_date) },
        { key: 'reason', label: 'Reason' },
      ], entries, null));
    } else {
      out.push(h('p', { class: 'muted', text: 'No certificate is revoked on this CRL.' }));
    }
    return out;
  });
}

export async function render(root, ctx, params) {
  const body = h('div');
  root.append(sectionHead('CRLs'), body);
  let cas = [];
  try {
    cas = (await api('GET', '/cas' + qs({ limit: 200 }))).items || [];
  } catch (e) {
    body.append(message('error', e.message));
    return;
  }
  if (!cas.length) {
    body.append(message('info', 'There is no CA yet, so no CRL.'));
    return;
  }
  const caSel = select('ca', cas.map((c) => [String(c.id), c.name]), params.get('ca') || String(cas[0].id));
  const list = h('div');
  const bar = h('div');
  const publish = ctx.canIssue ? button('Publish CRL now', async () => {
    try {
      await api('POST', `/cas/${caSel.value}/crl`, {});
      flash('ok', 'A new CRL is published.');
      pg.reload();
    } catch (e) { flash('error', e.message); }
  }, { change: true }) : null;
  body.append(h('div', { class: 'filters' }, field('CA', caSel), publish), list, bar);
  let pg;
  const load = () => {
    const ca = cas.find((c) => String(c.id) === caSel.value) || {};
    pg = pager((after) => api('GET', `/cas/${caSel.value}/crls` + qs({ limit: 50, after })), (items) => dataTable('crls', [
      { key: 'number', label: 'Number', render: (c) => String(c.number ?? c.crl_number ?? '—') },
      { key: 'this_update', label: 'This update', render: (c) => fmtTime(c.this_update) },
      { key: 'next_update', label: 'Next update', render: (c) => fmtTime(c.next_update) },
      { key: 'entries', label: 'Entries', render: (c) => String(c.entry_count ?? c.entries ?? '—') },
    ], items, (c) => actionsMenu(`CRL ${c.number ?? c.id}`, [{ label: 'Show CRL', run: () => showCrl(c.id, ca.name) }]), 'No CRL published yet.'), list);
    bar.replaceChildren(pg.bar);
  };
  caSel.addEventListener('change', load);
  load();
}
