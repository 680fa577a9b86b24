// The server's API as plain functions. Works in the page and in the service worker.

export class NetworkError extends Error {}

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.code = body && body.error;
    this.fields = (body && body.fields) || null;
    this.codes = (body && body.codes) || null;
  }
}

// Worth retrying later as is: the network, or a server that is down or busy.
export function isTransient(error) {
  if (error instanceof NetworkError) return true;
  return error instanceof ApiError && (error.status >= 500 || [408, 429].includes(error.status));
}

async function request(method, url, { json, form, csrf } = {}) {
  const headers = { Accept: 'application/json' };
  let body;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (form) {
    body = form;
  }
  if (csrf) headers['X-CSRF-Token'] = csrf;
  let response;
  let data = null;
  try {
    response = await fetch(url, { method, headers, body, credentials: 'same-origin', cache: 'no-store' });
    const text = await response.text();
    if (text) data = JSON.parse(text);
  } catch (error) {
    // No answer, a cut connection, or a proxy's HTML page: nothing was acknowledged.
    if (!response || response.ok) throw new NetworkError(error.message);
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export const login = (username, password) =>
  request('POST', '/api/login', { json: { username, password, remember: true } });

export const logout = (csrf) => request('POST', '/api/logout', { csrf });

export const me = () => request('GET', '/api/me');

// After a one-time password: the answer is /api/me's, with the new session's CSRF token.
export const changePassword = (current, next, repeated, csrf) => request('POST', '/api/password', {
  json: { current_password: current, new_password: next, repeated_password: repeated }, csrf,
});

export const push = (payload, csrf) => request('POST', '/api/sync/push', { json: payload, csrf });

export function pull(cursor, limit = 200) {
  const query = new URLSearchParams({ limit: String(limit) });
  if (cursor) query.set('cursor', cursor);
  return request('GET', `/api/sync/pull?${query}`);
}

export function uploadPhoto(photo, csrf) {
  const form = new FormData();
  form.append('visit_uuid', photo.visitUuid);
  form.append('sha256', photo.sha256);
  form.append('file', photo.blob, `${photo.uuid}.jpg`);
  return request('PUT', `/api/sync/photos/${photo.uuid}`, { form, csrf });
}
