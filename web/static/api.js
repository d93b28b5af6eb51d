// api.js: the console's only door to the appliance: fetch /api/v1 with the session cookie and,
// on every state-changing call, the X-CSRF-Token header the server checks. Every failure becomes
// an ApiError carrying the API's human message, never raw JSON.

const CSRF_KEY = 'hsmca.csrf';
let onUnauthenticated = null;

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// The CSRF token lives for the tab's session only (the cookie itself is HttpOnly).
export function setCsrf(token) {
  if (token) sessionStorage.setItem(CSRF_KEY, token);
  else sessionStorage.removeItem(CSRF_KEY);
}

export function setUnauthenticatedHandler(fn) {
  onUnauthenticated = fn;
}

export async function api(method, path, body, { raw = false } = {}) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = sessionStorage.getItem(CSRF_KEY) || '';
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let r;
  try {
    r = await fetch('/api/v1' + path, {
      method, headers, credentials: 'same-origin', cache: 'no-store',
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  } catch (e) {
    throw new ApiError(0, 'network', 'The appliance could not be reached. Check the connection and try again.');
  }
  const ct = r.headers.get('Content-Type') || '';
  if (!r.ok) {
    let code = 'http_' + r.status, message = `The appliance answered HTTP ${r.status} ${r.statusText}.`;
    if (ct.startsWith('application/json')) {
      try {
        const j = await r.json();
        if (j && j.error) {
          code = j.error.code || code;
          message = j.error.message || message;
        }
      } catch (e) { /* keep the generic sentence */ }
    }
    if (r.status === 404 && code === 'not_found' && /no such endpoint/i.test(message))
      message = 'This appliance does not offer this function yet (' + method + ' ' + path.split('?')[0] + ': no such endpoint).';
    const err = new ApiError(r.status, code, message);
    if (r.status === 401 && !path.startsWith('/auth/login') && onUnauthenticated) onUnauthenticated(err);
    throw err;
  }
  if (r.status === 204) return null;
  if (raw) return r;
  if (ct.startsWith('application/json')) return r.json();
  return r.text();
}

export const get = (p) => api('GET', p);
export const post = (p, b) => api('POST', p, b === undefined ? {} : b);
export const patch = (p, b) => api('PATCH', p, b);
export const put = (p) => api('PUT', p);
export const del = (p) => api('DELETE', p);

// Builds "?a=1&b=x" from an object, skipping empty values.
export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {}))
    if (v !== undefined && v !== null && v !== '') u.set(k, String(v));
  const s = u.toString();
  return s ? '?' + s : '';
}
