// The signed-in account, held in this page's memory only (never localStorage or a cookie): a
// reload or a log-out forgets it (and a log-out has the gateway end its token: app.js). Key secrets created in this tab are kept here too, so the
// playground can use one without the user pasting it (the server never shows a secret twice).
const state = { token: null, email: null, role: null, expiresAt: null, secrets: new Map() };
const listeners = new Set();

export function signIn({ token, email, role, expires_at }) {
  Object.assign(state, { token, email, role: role || "user", expiresAt: expires_at });
  listeners.forEach((f) => f());
}

export function signOut() {
  Object.assign(state, { token: null, email: null, role: null, expiresAt: null });
  state.secrets.clear();
  listeners.forEach((f) => f());
}

/** End a session the gateway refused (an expired login token); the login page says why. */
export function expire(reason) {
  notice = reason;
  signOut();
}

let notice = null;
/** The reason the last session ended, once (then forgotten). */
export function takeNotice() {
  const out = notice;
  notice = null;
  return out;
}

export const token = () => state.token;
export const email = () => state.email;
/** Whether the account was an admin when it logged in (the gateway checks every admin call). */
export const isAdmin = () => state.role === "admin";
export const signedIn = () => state.token !== null;
export const onChange = (f) => listeners.add(f);

/** Remember a key's secret for this tab (by key id). */
export function keepSecret(id, name, secret) {
  state.secrets.set(id, { id, name, secret });
}
export const forgetSecret = (id) => state.secrets.delete(id);
export const secrets = () => [...state.secrets.values()];
