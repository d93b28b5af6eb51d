// ui.js: small DOM building blocks shared by every section: elements, status messages, modal
// dialogs (focus trapped, Escape closes, focus returns), tables with a remembered column
// chooser and an "Actions" menu per row, keyset pagination, copy and download helpers.
// Text is always set with textContent: nothing from the API is parsed as HTML.

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked' || k === 'disabled' || k === 'hidden' || k === 'required' || k === 'selected') el[k] = !!v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

let uid = 0;
export const nextId = (p) => `${p || 'f'}-${++uid}`;

// A labelled form field; returns {row, input}.
export function field(label, input, hint) {
  if (!input.id) input.id = nextId('in');
  const row = h('div', { class: 'field' }, h('label', { for: input.id, text: label }), input);
  if (hint) {
    const hid = nextId('hint');
    input.setAttribute('aria-describedby', hid);
    row.append(h('small', { id: hid, class: 'hint', text: hint }));
  }
  return row;
}

export function select(name, options, value) {
  const s = h('select', { name });
  for (const o of options) {
    const [v, t] = Array.isArray(o) ? o : [o, o];
    s.append(h('option', { value: v, text: t, selected: String(v) === String(value ?? '') }));
  }
  return s;
}

// A live message: kind is 'error', 'ok' or 'info'. The API's messages are sentences in lower
// case without a full stop ("the two-factor code is wrong or expired"); shown, they read as one.
export function message(kind, text) {
  return h('p', { class: 'msg msg-' + kind, role: kind === 'error' ? 'alert' : 'status', text: sentence(text) });
}

export function sentence(text) {
  const s = String(text ?? '').trim();
  if (!s) return s;
  const first = /^[a-z]/.test(s) && !/^[a-z]+[A-Z0-9_./:-]/.test(s) ? s.charAt(0).toUpperCase() + s.slice(1) : s;
  return /[.!?:)…]$/.test(first) ? first : first + '.';
}

export function flash(kind, text) {
  const s = document.getElementById('status');
  s.replaceChildren(message(kind, text));
}

export function errorText(e) {
  return e && e.message ? e.message : String(e);
}

// --- dialogs ---

function focusSection() {
  // Under another modal dialog the page is inert: focus goes to that dialog instead.
  const open = [...document.querySelectorAll('dialog[open]')].pop();
  const target = open ? open.querySelector(FOCUSABLE) : document.getElementById('main');
  if (target) target.focus();
}

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), summary, [tabindex]:not([tabindex="-1"])';

// Opens a modal dialog. build(body, close) fills it. Resolves with the value given to close().
export function dialog(title, build, { wide = false } = {}) {
  const opener = document.activeElement;
  const titleId = nextId('dlg');
  const body = h('div', { class: 'dlg-body' });
  const closeBtn = h('button', { type: 'button', class: 'dlg-x', 'aria-label': 'Close', text: '×' });
  const dlg = h('dialog', { class: wide ? 'dlg wide' : 'dlg', 'aria-labelledby': titleId },
    h('div', { class: 'dlg-head' }, h('h2', { id: titleId, text: title }), closeBtn), body);
  document.body.append(dlg);
  return new Promise((resolve) => {
    let done = false;
    const close = (value) => {
      if (done) return;
      done = true;
      dlg.close();
      dlg.remove();
      // Focus goes back where the dialog was opened from; if that is gone (a redrawn table),
      // to the dialog below or the section, so keyboard users do not restart from the top.
      if (opener && opener.isConnected && opener.getClientRects().length && typeof opener.focus === 'function') opener.focus();
      else focusSection();
      resolve(value);
    };
    closeBtn.addEventListener('click', () => close(undefined));
    // Escape: the native cancel event, routed through close() so focus returns.
    dlg.addEventListener('cancel', (ev) => { ev.preventDefault(); close(undefined); });
    // Tab wraps inside the dialog.
    dlg.addEventListener('keydown', (ev) => {
      if (ev.key !== 'Tab') return;
      const f = [...dlg.querySelectorAll(FOCUSABLE)].filter((x) => x.offsetParent !== null);
      if (!f.length) return;
      const first = f[0], last = f[f.length - 1];
      if (ev.shiftKey && document.activeElement === first) { ev.preventDefault(); last.focus(); }
      else if (!ev.shiftKey && document.activeElement === last) { ev.preventDefault(); first.focus(); }
    });
    build(body, close);
    dlg.showModal();
    const first = body.querySelector('[autofocus]') || body.querySelector(FOCUSABLE) || closeBtn;
    first.focus();
  });
}

// A form inside a dialog: fields is a list of rows; submit(form) returns a result or throws an
// ApiError whose message is shown in the dialog.
// cancelLabel names the dismiss button where "Cancel" would be ambiguous ("Cancel rollover").
export function formDialog(title, fields, submitLabel, submit, { danger = false, cancelLabel = 'Cancel' } = {}) {
  return dialog(title, (body, close) => {
    const err = h('div', { class: 'dlg-err', 'aria-live': 'assertive' });
    const btn = h('button', { type: 'submit', class: danger ? 'btn danger' : 'btn primary', text: submitLabel });
    const form = h('form', { class: 'form', novalidate: true }, ...fields, err,
      h('div', { class: 'buttons' }, btn, h('button', { type: 'button', class: 'btn', text: cancelLabel, onclick: () => close(undefined) })));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      err.replaceChildren();
      btn.disabled = true;
      try {
        const r = await submit(form);
        close(r === undefined ? true : r);
      } catch (e) {
        err.replaceChildren(message('error', errorText(e)));
        btn.disabled = false;
      }
    });
    body.append(form);
  });
}

export function confirmDialog(title, text, label) {
  return formDialog(title, [h('p', { text })], label || 'Delete', async () => true, { danger: true });
}

// Shows a result (text, PEM or key/value list) with a Close button.
export function infoDialog(title, content, { wide = true } = {}) {
  return dialog(title, (body, close) => {
    body.append(...[content].flat(), h('div', { class: 'buttons' },
      h('button', { type: 'button', class: 'btn primary', text: 'Close', onclick: () => close() })));
  }, { wide });
}

// Loads content asynchronously into a dialog; errors appear as the API's message.
export function loadingDialog(title, load) {
  return dialog(title, (body, close) => {
    const slot = h('div', { class: 'slot' }, h('p', { class: 'loading', text: 'Loading…' }));
    body.append(slot, h('div', { class: 'buttons' },
      h('button', { type: 'button', class: 'btn primary', text: 'Close', onclick: () => close() })));
    load().then((content) => slot.replaceChildren(...[content].flat()))
      .catch((e) => slot.replaceChildren(message('error', errorText(e))));
  }, { wide: true });
}

export function pre(text, label) {
  return h('pre', { class: 'pem', tabindex: '0', 'aria-label': label || 'Content', text });
}

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

// A definition list of an object's fields (every field, in order, formatted); a field that is
// itself an object (an order's parameters, an audit row's details) becomes a nested list.
export function detailList(obj, labels) {
  const dl = h('dl', { class: 'details' });
  for (const [k, v] of Object.entries(obj || {})) {
    if (k === 'certificate' || k === 'chain' || k === 'der') continue;
    dl.append(h('dt', { text: (labels && labels[k]) || humanKey(k) }),
      h('dd', {}, isObject(v) && Object.keys(v).length ? detailList(v) : fmtValue(v)));
  }
  return dl;
}

// Words of API field names that are written differently in a sentence.
const WORDS = {
  ca: 'CA', cas: 'CAs', crl: 'CRL', crls: 'CRLs', ip: 'IP', scep: 'SCEP', url: 'URL', uri: 'URI', der: 'DER', pem: 'PEM',
  pfx: 'PFX', api: 'API', http: 'HTTP', totp: 'TOTP', sha256: 'SHA-256', sans: 'SANs', ms: '(ms)', id: 'id',
};

export function humanKey(k) {
  const s = k.split('_').map((w) => WORDS[w] || w).join(' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

// One value as text; objects and lists read as "Key: value; ..." rather than JSON.
export function fmtValue(v) {
  if (v === null || v === undefined || v === '') return '—';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (Array.isArray(v)) return v.length ? v.map((x) => (isObject(x) ? `(${fmtValue(x)})` : fmtValue(x))).join(', ') : '—';
  if (isObject(v)) return Object.keys(v).length ? Object.entries(v).map(([k, x]) => `${humanKey(k)}: ${fmtValue(x)}`).join('; ') : '—';
  if (typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(v)) return fmtTime(v);
  return String(v);
}

export function fmtTime(s) {
  if (!s) return '—';
  return s.replace('T', ' ').replace('Z', ' UTC');
}

export function badge(status) {
  const s = String(status || 'unknown');
  return h('span', { class: 'badge badge-' + s.replace(/[^a-z_-]/gi, ''), text: s });
}

// --- copy and download ---

export async function copyText(text, button) {
  let ok = false;
  try {
    await navigator.clipboard.writeText(text);
    ok = true;
  } catch (e) {
    ok = false;
  }
  if (button) {
    const old = button.textContent;
    button.textContent = ok ? 'Copied' : 'Select and copy by hand';
    setTimeout(() => { button.textContent = old; }, 1500);
  }
  return ok;
}

// A read-only secret with a Copy button (tokens, passwords, SCEP secrets shown once).
export function secretBox(label, value, warning) {
  const input = h('input', { type: 'text', readonly: true, value, class: 'secret', 'data-secret': '' });
  input.addEventListener('focus', () => input.select());
  const btn = h('button', { type: 'button', class: 'btn', text: 'Copy' });
  btn.addEventListener('click', () => copyText(value, btn));
  return h('div', { class: 'secret-box' },
    field(label, input),
    btn,
    warning ? h('p', { class: 'msg msg-warn', role: 'note', text: warning }) : null);
}

export function download(name, data, type) {
  const blob = data instanceof Blob ? data : new Blob([data], { type: type || 'application/octet-stream' });
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export function base64ToBytes(b64) {
  const bin = atob(b64.replace(/\s+/g, ''));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function fileToBase64(file) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result).replace(/^data:[^,]*,/, ''));
    r.onerror = () => reject(new Error('The file could not be read.'));
    r.readAsDataURL(file);
  });
}

// --- tables ---

// An "Actions" menu: a disclosure button with a list of buttons. Escape closes it.
export function actionsMenu(label, items) {
  const shown = items.filter(Boolean);
  if (!shown.length) return h('span', { class: 'muted', text: '—' });
  const menu = h('details', { class: 'menu' });
  const summary = h('summary', { class: 'btn small', text: 'Actions', 'aria-label': 'Actions for ' + label });
  const list = h('div', { class: 'menu-list' });
  for (const it of shown) {
    list.append(h('button', {
      type: 'button', class: 'menu-item' + (it.change ? ' act-change' : '') + (it.danger ? ' danger' : ''), text: it.label,
      // The summary takes the focus first: a dialog the item opens gives it back there (the item
      // itself is hidden once the menu closes).
      onclick: () => { menu.open = false; summary.focus(); it.run(); },
    }));
  }
  menu.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && menu.open) { ev.stopPropagation(); menu.open = false; summary.focus(); }
  });
  menu.addEventListener('toggle', () => {
    if (menu.open) {
      for (const other of document.querySelectorAll('details.menu[open]')) if (other !== menu) other.open = false;
      placeMenu(summary, list);
    }
  });
  menu.append(summary, list);
  return menu;
}

// Right-aligned under its button, above it when there is no room below, always inside the window.
function placeMenu(summary, list) {
  const r = summary.getBoundingClientRect();
  // Measured at the window's corner, where its width is its own and not the table cell's.
  list.style.left = '0px';
  list.style.top = '0px';
  const w = list.offsetWidth, ht = list.offsetHeight, m = 4;
  let top = r.bottom + 2;
  if (top + ht > window.innerHeight - m && r.top - ht - 2 >= m) top = r.top - ht - 2;
  list.style.left = `${Math.max(m, Math.min(r.right - w, window.innerWidth - w - m))}px`;
  list.style.top = `${Math.max(m, Math.min(top, window.innerHeight - ht - m))}px`;
}

function placeOpenMenus() {
  for (const d of document.querySelectorAll('details.menu[open]')) placeMenu(d.querySelector('summary'), d.querySelector('.menu-list'));
}
window.addEventListener('scroll', placeOpenMenus, { capture: true, passive: true });
window.addEventListener('resize', placeOpenMenus);

function loadCols(id, columns) {
  try {
    const saved = JSON.parse(localStorage.getItem('hsmca.cols.' + id) || 'null');
    if (Array.isArray(saved)) return new Set(saved.filter((k) => columns.some((c) => c.key === k)));
  } catch (e) { /* fall back to defaults */ }
  return new Set(columns.filter((c) => c.default !== false).map((c) => c.key));
}

// A table with a column chooser remembered in localStorage under tableId. columns:
// [{key, label, render?(row), default?}]; actions(row) -> actionsMenu or null.
export function dataTable(tableId, columns, rows, actions, emptyText) {
  const visible = loadCols(tableId, columns);
  const wrap = h('div', { class: 'table-wrap' });
  const chooser = h('details', { class: 'cols' }, h('summary', { class: 'btn small', text: 'Columns' }));
  const box = h('fieldset', { class: 'cols-list' }, h('legend', { text: 'Visible columns' }));
  for (const c of columns) {
    const cb = h('input', { type: 'checkbox', name: 'col-' + c.key, checked: visible.has(c.key) });
    cb.addEventListener('change', () => {
      if (cb.checked) visible.add(c.key); else visible.delete(c.key);
      localStorage.setItem('hsmca.cols.' + tableId, JSON.stringify([...visible]));
      draw();
    });
    box.append(h('label', { class: 'check' }, cb, ' ' + c.label));
  }
  chooser.append(box);
  chooser.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && chooser.open) { ev.stopPropagation(); chooser.open = false; chooser.querySelector('summary').focus(); }
  });
  const holder = h('div', { class: 'scroll' });
  function draw() {
    const cols = columns.filter((c) => visible.has(c.key));
    const thead = h('tr', {}, ...cols.map((c) => h('th', { scope: 'col', text: c.label })), actions ? h('th', { scope: 'col', text: 'Actions' }) : null);
    const tbody = h('tbody');
    for (const row of rows) {
      const tr = h('tr', {});
      for (const c of cols) {
        const v = c.render ? c.render(row) : fmtValue(row[c.key]);
        tr.append(h('td', { 'data-label': c.label }, v));
      }
      if (actions) tr.append(h('td', { class: 'actions' }, actions(row)));
      tbody.append(tr);
    }
    if (!rows.length) tbody.append(h('tr', {}, h('td', { colspan: String(cols.length + (actions ? 1 : 0)), class: 'empty', text: emptyText || 'Nothing here yet.' })));
    holder.replaceChildren(h('table', { class: 'grid', id: 'tbl-' + tableId }, h('thead', {}, thead), tbody));
  }
  draw();
  wrap.append(h('div', { class: 'table-tools' }, chooser), holder);
  return wrap;
}

// Keyset pagination over {items, next}. load(after) -> Promise<{items,next}>; render(items).
export function pager(load, render, into) {
  const stack = [];
  let cur = '';
  const prev = h('button', { type: 'button', class: 'btn small', text: 'Previous page' });
  const next = h('button', { type: 'button', class: 'btn small', text: 'Next page' });
  const info = h('span', { class: 'muted' });
  const bar = h('div', { class: 'pager', role: 'navigation', 'aria-label': 'Pages' }, prev, info, next);
  let nextCursor = null;
  async function go(after) {
    // A reload after a dialog redraws the table: keep the keyboard focus on the same row's
    // "Actions" button (found again by its label) instead of dropping it to the page body.
    const active = document.activeElement;
    const keep = active && into.contains(active) ? active.getAttribute('aria-label') : null;
    into.replaceChildren(h('p', { class: 'loading', text: 'Loading…' }));
    try {
      const r = await load(after);
      cur = after;
      nextCursor = r && r.next != null ? String(r.next) : null;
      into.replaceChildren(render((r && r.items) || []));
      const again = keep && into.querySelector(`[aria-label="${CSS.escape(keep)}"]`);
      if (again) again.focus();
      else if (keep) focusSection();
      prev.disabled = stack.length === 0;
      next.disabled = !nextCursor;
      info.textContent = `Page ${stack.length + 1}`;
    } catch (e) {
      into.replaceChildren(message('error', errorText(e)));
      next.disabled = true;
      prev.disabled = stack.length === 0;
    }
  }
  prev.addEventListener('click', () => { if (stack.length) go(stack.pop()); });
  next.addEventListener('click', () => { if (nextCursor) { stack.push(cur); go(nextCursor); } });
  go('');
  return { bar, reload: () => go(cur) };
}

// Section header: title plus buttons.
export function sectionHead(title, ...buttons) {
  return h('div', { class: 'section-head' }, h('h1', { text: title }), h('div', { class: 'head-buttons' }, ...buttons));
}

export function button(label, onclick, { change = false, primary = false, danger = false } = {}) {
  return h('button', {
    type: 'button', text: label, onclick,
    class: 'btn' + (primary ? ' primary' : '') + (danger ? ' danger' : '') + (change ? ' act-change' : ''),
  });
}
