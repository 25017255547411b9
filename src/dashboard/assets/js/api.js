// Talks to the dashboard's server: the session (B/session) and the HTTP API behind B/api.
// Mutating requests carry the session's CSRF token; a 401 hands control to the login view.

// This file is served at B/assets/js/api.js, so B is two levels up.
export const BASE = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');

// The answer of GET B/session, kept current by loadSession, signIn and signOut.
export const session = {auth: null, user: null, role: null, csrf: null, api_url: '', api_keys: false, base_path: BASE};

export function isAdmin() {
  return session.role === 'admin';
}

export function signedIn() {
  return session.role !== null && session.role !== undefined;
}

// The error of a failed request, from the API's problem details (RFC 9457): status, code,
// message (the detail), the first invalid field, and every invalid field ({field, detail}).
export class ApiError extends Error {
  constructor(status, code, message, field, errors = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
    this.errors = errors;
  }
}

let unauthorizedHandler = () => {};

// fn runs when the server answers 401 to an API call (the session ended or never began).
export function onUnauthorized(fn) {
  unauthorizedHandler = fn;
}

function buildQuery(query) {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== null && value !== undefined && value !== '') params.set(name, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

async function request(method, path, {query, body} = {}) {
  const headers = {Accept: 'application/json'};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && session.csrf) headers['X-CSRF-Token'] = session.csrf;
  let response;
  try {
    response = await fetch(BASE + path + buildQuery(query), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch (e) {
    throw new ApiError(0, 'network', `cannot reach the server (${e.message})`);
  }
  const text = await response.text();
  let payload = null;
  if (text) {
    try {
      payload = JSON.parse(text);
    } catch {
      payload = null;
    }
  }
  if (!response.ok) {
    const err = payload && typeof payload === 'object' ? payload : {};
    const error = new ApiError(response.status, err.code || `http_${response.status}`,
      err.detail || `${response.status} ${response.statusText}`.trim(), err.field,
      Array.isArray(err.errors) ? err.errors : []);
    if (response.status === 401 && path !== '/session') unauthorizedHandler(error);
    throw error;
  }
  return payload;
}

// Segments of API paths: names and ids need no escaping, but escaping costs nothing.
export function seg(value) {
  return encodeURIComponent(value);
}

export const api = {
  get: (path, query) => request('GET', `/api${path}`, {query}),
  post: (path, body, query) => request('POST', `/api${path}`, {body, query}),
  put: (path, body, query) => request('PUT', `/api${path}`, {body, query}),
  del: (path, query) => request('DELETE', `/api${path}`, {query}),
};

function keepSession(answer) {
  Object.assign(session, {auth: null, user: null, role: null, csrf: null, api_url: ''}, answer);
  return session;
}

export async function loadSession() {
  return keepSession(await request('GET', '/session'));
}

// credentials: {username, password} or {api_key}.
export async function signIn(credentials) {
  return keepSession(await request('POST', '/session', {body: credentials}));
}

export async function signOut() {
  try {
    await request('DELETE', '/session');
  } finally {
    keepSession({auth: session.auth});
  }
}
