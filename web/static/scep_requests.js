// scep_requests.js: SCEP requests waiting for a decision (a CA on manual approval answers
// PKCSReq with PENDING): when, which CA, subject, peer IP and transaction id, with Approve and
// Reject for those the API lets decide (an administrator; an operator on their teams' CAs, the
// only ones the list shows them). Both ask first; the list then reloads without the row.
import { api, qs } from './api.js';
import { h, nextId, field, dataTable, actionsMenu, pager, formDialog, fmtTime, flash } from './ui.js';
import { listCas } from './cas.js';

const who = (r) => r.subject || `transaction ${r.transaction_id}`;

export function pendingRequests(ctx) {
  const headId = nextId('pending');
  const count = h('span', { class: 'badge badge-pending', hidden: true });
  const list = h('div');
  const names = new Map();
  // The rows carry the CA's id only; its name comes from the CA list (fetched once, alongside).
  const cas = listCas().then((v) => { for (const c of v) names.set(c.id, c.name); }).catch(() => {});
  const caName = (r) => names.get(r.ca_id) || `CA ${r.ca_id}`;
  let more = false;
  let pg;
  const act = ctx.canIssue ? (r) => actionsMenu(`SCEP request ${r.transaction_id}`, [
    { label: 'Approve', change: true, run: () => decide(r, caName(r), true).then((ok) => ok && pg.reload()) },
    { label: 'Reject', change: true, danger: true, run: () => decide(r, caName(r), false).then((ok) => ok && pg.reload()) },
  ]) : null;
  pg = pager(async (after) => {
    const [r] = await Promise.all([api('GET', '/scep-requests' + qs({ status: 'pending', limit: 50, after })), cas]);
    more = r.next != null;
    return r;
  }, (items) => {
    count.hidden = !items.length;
    count.textContent = `${items.length}${more ? '+' : ''} waiting`;
    return dataTable('scep-pending', [
      { key: 'created_at', label: 'Time', render: (r) => fmtTime(r.created_at) },
      { key: 'ca_id', label: 'CA', render: caName },
      { key: 'subject', label: 'Subject' },
      { key: 'peer', label: 'Peer IP' },
      { key: 'transaction_id', label: 'Transaction' },
      { key: 'message_type', label: 'Message', default: false },
    ], items, act, 'No SCEP request is waiting for a decision.');
  }, list);
  pg.bar.setAttribute('aria-label', 'Pages of pending SCEP requests');
  return h('section', { class: 'sub', 'aria-labelledby': headId },
    h('h2', { id: headId }, 'Pending SCEP requests ', count),
    h('p', { class: 'muted', text: 'A CA set to manual approval holds each enrollment here until it is approved or rejected; the client gets the answer at its next poll.' }),
    list, pg.bar);
}

function decide(r, ca, approve) {
  const name = who(r);
  const text = approve
    ? `${ca} will issue a certificate for ${name} (transaction ${r.transaction_id}, from ${r.peer || 'an unknown address'}).`
    : `${ca} will issue nothing for ${name} (transaction ${r.transaction_id}); the client's next poll gets a failure. This cannot be undone.`;
  // A rejection may say why: it is kept on the request and in the audit trail.
  const reason = h('input', { type: 'text', name: 'reason', maxlength: 200, autocomplete: 'off' });
  const fields = approve ? [h('p', { text })] : [h('p', { text }), field('Reason (optional)', reason, 'Kept with the request and in the audit trail.')];
  return formDialog(`${approve ? 'Approve' : 'Reject'} the SCEP request of ${name}?`, fields,
    approve ? 'Approve request' : 'Reject request', async () => {
      const why = reason.value.trim();
      const t = await api('POST', `/scep-requests/${r.id}/${approve ? 'approve' : 'reject'}`, !approve && why ? { reason: why } : {});
      flash('ok', approve ? `The request of ${name} is approved: certificate ${t.certificate_id} is issued.` : `The request of ${name} is rejected.`);
      return true;
    }, { danger: !approve });
}
