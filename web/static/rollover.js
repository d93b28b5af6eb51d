// rollover.js: a CA's key rollover from its row menu (administrators change, everyone who sees
// the CA may look): start (a new token key and a next certificate of the same subject), show the
// pending next certificate, activate it (the new key signs from then on) or cancel it.
import { api } from './api.js';
import { h, field, select, formDialog, loadingDialog, infoDialog, detailList, pre, button, download, message, flash } from './ui.js';

const LABELS = {
  subject: 'Subject', key: 'Key', valid_from: 'Valid from', valid_to: 'Valid to', fingerprint_sha256: 'SHA-256 fingerprint',
  serial: 'Serial', created_by: 'Started by', created_at: 'Started at',
};

// The subject as the next certificate states it (a rollover keeps the CA's).
export function nextDetails(ca, next) {
  const subject = next.subject || ca.subject;
  const { key, valid_from, valid_to, fingerprint_sha256, serial, created_by, created_at } = next;
  return [detailList({ subject, key, valid_from, valid_to, fingerprint_sha256, serial, created_by, created_at }, LABELS),
    pre(next.certificate, 'Next CA certificate PEM'),
    button('Download next certificate PEM', () => download(`${ca.slug}.next.pem`, next.certificate, 'application/x-pem-file'))];
}

export const rolloverBadge = (ca) => (ca.next ? h('span', { class: 'badge badge-pending', text: 'rollover pending' }) : null);

// The row menu's rollover items. reload() redraws the CA list and resolves when it is drawn.
export function rolloverItems(ca, ctx, reload, keys) {
  if (ca.next) {
    return [
      { label: 'Show pending rollover', run: () => showPending(ca) },
      ctx.isAdmin && { label: 'Activate rollover', change: true, run: () => activate(ca).then((ok) => ok && reload()) },
      ctx.isAdmin && { label: 'Cancel rollover', change: true, danger: true, run: () => cancel(ca).then((ok) => ok && reload()) },
    ];
  }
  return [ctx.isAdmin && ca.status !== 'retired' && { label: 'Start key rollover', change: true, run: () => start(ca, keys, reload) }];
}

function showPending(ca) {
  return loadingDialog(`Pending rollover of ${ca.name}`, async () => {
    const r = await api('GET', `/cas/${ca.id}/rollover`);
    return r.next ? nextDetails(ca, r.next) : message('info', `${ca.name} has no pending rollover.`);
  });
}

async function start(ca, keys, reload) {
  const key = select('key', keys, ca.key);
  const days = h('input', { type: 'number', name: 'days', min: '1', max: '36500' });
  const r = await formDialog(`Start a key rollover of ${ca.name}?`, [
    h('p', { text: `A new key is generated on the token (it never leaves it) with a next CA certificate of the same subject, and a next SCEP RA. ${ca.name} keeps signing with its current key until the rollover is activated; meanwhile SCEP clients can fetch the next certificate (GetNextCACert).` }),
    field('Key type', key), field('Validity (days)', days, `Leave empty for ${ca.parent_id ? '1825 days, within the parent CA\'s validity' : '3650 days'}.`),
  ], 'Start rollover', async () => {
    const b = { key: key.value };
    if (days.value !== '') b.days = Number(days.value);
    return api('POST', `/cas/${ca.id}/rollover`, b);
  });
  if (!r) return;
  flash('ok', `The rollover of ${ca.name} is started: its next certificate is pending.`);
  // The list redraws first, so the dialog below gives the focus back to the row's menu.
  await reload();
  await infoDialog(`Pending rollover of ${ca.name}`, [message('ok', 'The next CA certificate is ready. Activate the rollover once the clients trust it.'), ...nextDetails(ca, r.next)]);
}

function activate(ca) {
  return formDialog(`Activate the rollover of ${ca.name}?`, [
    h('p', { text: `From now on ${ca.name} issues new certificates and CRLs with its new key (SHA-256 ${ca.next.fingerprint_sha256}). Certificates it issued before stay valid and keep their CRL and OCSP answers from the previous key.` }),
    h('p', { text: 'Clients that do not trust the new CA certificate yet will not accept certificates issued from now on.' }),
  ], 'Activate rollover', async () => {
    const r = await api('POST', `/cas/${ca.id}/rollover/activate`, {});
    flash('ok', `${ca.name} now signs with its new key (SHA-256 ${r.fingerprint_sha256}).`);
    return true;
  });
}

function cancel(ca) {
  return formDialog(`Cancel the rollover of ${ca.name}?`, [
    h('p', { text: `The next key is deleted from the token and the next certificate discarded${ca.parent_id ? ' (revoked at the parent CA)' : ''}. ${ca.name} keeps its current key. This cannot be undone.` }),
  ], 'Cancel rollover', async () => {
    await api('DELETE', `/cas/${ca.id}/rollover`);
    flash('ok', `The rollover of ${ca.name} is cancelled.`);
    return true;
  }, { danger: true, cancelLabel: 'Keep the rollover' });
}
