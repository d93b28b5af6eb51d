// revoke.js: the two deliberate dialogs of the certificate inventory.
// Revoke: asks the server for a six-digit code (POST .../revocation), shows it, and enables
// "Confirm Revoke" only when the typed code matches; the server checks the code again.
// PFX: asks the server for a PKCS#12 (POST .../pfx), shows the one-time password with a copy
// button and a warning, and downloads the .pfx from the base64 answer.
import { api } from './api.js';
import { h, dialog, field, select, message, secretBox, download, base64ToBytes, errorText, fmtTime, flash } from './ui.js';

const REASONS = [
  ['unspecified', 'Unspecified'], ['keyCompromise', 'Key compromise'], ['cACompromise', 'CA compromise'],
  ['affiliationChanged', 'Affiliation changed'], ['superseded', 'Superseded'], ['cessationOfOperation', 'Cessation of operation'],
];

export function revokeDialog(cert) {
  const name = cert.common_name || cert.serial;
  return dialog(`Revoke ${name}`, (body, close) => {
    const slot = h('div', {}, h('p', { class: 'loading', text: 'Requesting a confirmation code…' }));
    const cancel = h('button', { type: 'button', class: 'btn', text: 'Cancel', onclick: () => close(false) });
    body.append(slot);
    api('POST', `/certificates/${cert.id}/revocation`, {}).then((r) => {
      const code = String(r.code);
      const typed = h('input', { type: 'text', name: 'code', inputmode: 'numeric', maxlength: '6', autocomplete: 'off', autofocus: true });
      const reason = select('reason', REASONS, 'unspecified');
      const confirm = h('button', { type: 'submit', class: 'btn danger', text: 'Confirm Revoke', disabled: true });
      const err = h('div', { 'aria-live': 'assertive' });
      typed.addEventListener('input', () => { confirm.disabled = typed.value.trim() !== code; });
      const form = h('form', { class: 'form' },
        h('p', { class: 'msg msg-warn', text: 'Revocation is permanent: a revoked certificate cannot be restored.' }),
        h('p', {}, 'Confirmation code: ', h('strong', { class: 'code', id: 'revoke-code', text: code })),
        r.expires_at ? h('p', { class: 'muted', text: `Valid until ${fmtTime(r.expires_at)}.` }) : null,
        field('Type the code to confirm', typed), field('Reason', reason), err,
        h('div', { class: 'buttons' }, confirm, cancel));
      form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        if (confirm.disabled) return;
        err.replaceChildren();
        confirm.disabled = true;
        try {
          await api('POST', `/certificates/${cert.id}/revoke`, { code: typed.value.trim(), reason: reason.value });
          flash('ok', `${name} is revoked.`);
          close(true);
        } catch (e) {
          err.replaceChildren(message('error', errorText(e)));
          confirm.disabled = typed.value.trim() !== code;
        }
      });
      slot.replaceChildren(form);
      typed.focus();
    }).catch((e) => {
      slot.replaceChildren(message('error', errorText(e)), h('div', { class: 'buttons' }, cancel));
      cancel.focus();
    });
  });
}

export function pfxDialog(cert) {
  const name = cert.common_name || cert.serial;
  const file = `${String(name).replace(/[^A-Za-z0-9._-]/g, '_')}.pfx`;
  return dialog(`Download PFX of ${name}`, (body, close) => {
    const legacy = h('input', { type: 'checkbox', name: 'legacy' });
    const err = h('div', { 'aria-live': 'assertive' });
    const go = h('button', { type: 'submit', class: 'btn primary', text: 'Create PFX' });
    const form = h('form', { class: 'form' },
      h('p', { text: 'The PKCS#12 file holds the certificate, its chain and the private key, protected by a random password.' }),
      h('label', { class: 'check' }, legacy, ' Legacy encryption (3DES/SHA-1, for old Windows)'), err,
      h('div', { class: 'buttons' }, go, h('button', { type: 'button', class: 'btn', text: 'Cancel', onclick: () => close(false) })));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      err.replaceChildren();
      go.disabled = true;
      try {
        const r = await api('POST', `/certificates/${cert.id}/pfx`, legacy.checked ? { legacy: true } : {});
        const bytes = base64ToBytes(r.pfx);
        const again = h('button', { type: 'button', class: 'btn', text: 'Download again', onclick: () => download(file, new Blob([bytes], { type: 'application/x-pkcs12' })) });
        body.replaceChildren(
          secretBox('PFX password', r.password, 'This password cannot be shown again. Copy it now; without it the file cannot be opened.'),
          h('p', { text: `The file ${file} is being downloaded.` }),
          h('div', { class: 'buttons' }, again, h('button', { type: 'button', class: 'btn primary', text: 'Done', onclick: () => close(true) })));
        body.querySelector('input[data-secret]').focus();
        download(file, new Blob([bytes], { type: 'application/x-pkcs12' }));
      } catch (e) {
        err.replaceChildren(message('error', errorText(e)));
        go.disabled = false;
      }
    });
    body.append(form);
  });
}
