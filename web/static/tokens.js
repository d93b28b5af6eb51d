// tokens.js: a user's API tokens: list (never the secret), create (validity; the token is shown
// once with click-to-copy), delete (after a confirmation).
import { api, qs } from './api.js';
import { h, dialog, field, message, secretBox, dataTable, errorText, fmtTime, confirmDialog } from './ui.js';

export function tokensDialog(user, canChange) {
  return dialog(`API tokens of ${user.username}`, (body) => {
    const list = h('div');
    const out = h('div', { 'aria-live': 'polite' });
    async function load() {
      try {
        const r = await api('GET', `/users/${user.id}/tokens${qs({ limit: 100 })}`);
        list.replaceChildren(dataTable('tokens', [
          { key: 'name', label: 'Name' },
          { key: 'prefix', label: 'Starts with' },
          { key: 'created_at', label: 'Created', render: (t) => fmtTime(t.created_at) },
          { key: 'expires_at', label: 'Expires', render: (t) => fmtTime(t.expires_at) + (t.expired ? ' (expired)' : '') },
          { key: 'last_used_at', label: 'Last used', render: (t) => fmtTime(t.last_used_at) },
        ], r.items || [], canChange ? (t) => h('button', {
          type: 'button', class: 'btn small danger act-change', text: 'Delete', 'aria-label': `Delete token ${t.name || t.prefix}`,
          onclick: async () => {
            const label = t.name || t.prefix;
            if (!await confirmDialog(`Delete token ${label}?`, 'Programs that use it can no longer call the API. This cannot be undone.', 'Delete token')) return;
            try {
              await api('DELETE', `/users/${user.id}/tokens/${t.id}`);
              out.replaceChildren(message('ok', `Token ${label} deleted.`));
            } catch (e) {
              out.replaceChildren(message('error', errorText(e)));
              return;
            }
            // The row and its button are gone: keep the keyboard in the dialog.
            await load();
            body.querySelector('input[name=token_name]').focus();
          },
        }) : null, 'No API tokens.'));
      } catch (e) {
        list.replaceChildren(message('error', errorText(e)));
      }
    }
    body.append(list, out);
    if (canChange) {
      const days = h('input', { type: 'number', name: 'validity_days', min: '1', max: '3650', value: '90' });
      const name = h('input', { type: 'text', name: 'token_name', maxlength: '64' });
      const form = h('form', { class: 'form inline' }, h('h3', { text: 'New token' }), field('Name', name), field('Validity (days)', days),
        h('button', { type: 'submit', class: 'btn primary act-change', text: 'Create token' }));
      form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        out.replaceChildren();
        try {
          const b = { validity_days: Number(days.value) };
          if (name.value) b.name = name.value;
          const r = await api('POST', `/users/${user.id}/tokens`, b);
          out.replaceChildren(secretBox('New API token', r.token, `Valid until ${fmtTime(r.expires_at)}. Copy it now: it cannot be shown again.`));
          load();
        } catch (e) {
          out.replaceChildren(message('error', errorText(e)));
        }
      });
      body.append(form);
    }
    load();
  }, { wide: true });
}
