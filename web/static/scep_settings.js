// scep_settings.js: one CA's SCEP settings (GET/PATCH /cas/{id}/scep): on or off, automatic or
// manual approval, with the SCEP URL and the RA certificate beside them. Those who may not change
// them (auditors) see them read-only.
import { api } from './api.js';
import { h, field, select, formDialog, loadingDialog, detailList, flash } from './ui.js';

const APPROVALS = [['auto', 'Automatic: issue at once'], ['manual', 'Manual: each request waits for approval']];

// withState: also whether SCEP is on and how requests are approved (the read-only view).
function facts(s, withState) {
  const ra = s.ra || {};
  const state = withState ? { enabled: s.enabled, approval: s.approval } : {};
  return detailList({ ...state, url: s.url, ra_subject: ra.subject, ra_valid_to: ra.valid_to, ra_fingerprint: ra.fingerprint_sha256 },
    { enabled: 'SCEP enabled', url: 'SCEP URL', ra_subject: 'RA certificate', ra_valid_to: 'RA valid to', ra_fingerprint: 'RA SHA-256 fingerprint' });
}

export async function scepSettingsDialog(ca, canChange) {
  if (!canChange) return loadingDialog(`SCEP settings of ${ca.name}`, async () => facts(await api('GET', `/cas/${ca.id}/scep`), true));
  let s;
  try {
    s = await api('GET', `/cas/${ca.id}/scep`);
  } catch (e) {
    flash('error', e.message);
    return false;
  }
  const enabled = h('input', { type: 'checkbox', name: 'scep_enabled', checked: s.enabled });
  const approval = select('approval', APPROVALS, s.approval);
  return formDialog(`SCEP settings of ${ca.name}`, [
    h('label', { class: 'check' }, enabled, ' SCEP enabled'),
    field('Approval', approval, 'Manual: the request appears under Pending SCEP requests until an administrator, or an operator of a team granted this CA, approves or rejects it.'),
    facts(s, false),
  ], 'Save', async () => {
    const b = {};
    if (enabled.checked !== s.enabled) b.enabled = enabled.checked;
    if (approval.value !== s.approval) b.approval = approval.value;
    if (Object.keys(b).length) await api('PATCH', `/cas/${ca.id}/scep`, b);
    flash('ok', `The SCEP settings of ${ca.name} are saved.`);
    return true;
  });
}
