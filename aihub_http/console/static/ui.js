// Small DOM helpers: elements are built with text nodes (never innerHTML from data), so nothing a
// user or a model wrote can run as markup.
import { t, locale } from "./i18n.js";

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, v);
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function svg(tag, attrs, ...children) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  for (const child of children.flat(Infinity)) if (child) el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return el;
}

export function toast(message, kind = "info") {
  const box = document.getElementById("toast");
  const item = h("div", { class: `toast ${kind}` }, message);
  box.append(item);
  setTimeout(() => item.remove(), 5000);
}

/** An error box for a failed call, with the gateway's request id to quote. */
export function errorBox(err) {
  return h("p", { class: "error", role: "alert" }, err.message, err.requestId ? h("small", {}, ` (${err.requestId})`) : null);
}

/** A modal yes/no question in a <dialog>; resolves true when confirmed. */
export function confirmDialog(question, confirmLabel) {
  return new Promise((resolve) => {
    const dialog = h(
      "dialog",
      { class: "confirm", "aria-label": question },
      h("p", {}, question),
      h(
        "form",
        { method: "dialog", class: "row" },
        h("button", { value: "no", class: "ghost", autofocus: true }, t("common.cancel")),
        h("button", { value: "yes", class: "danger" }, confirmLabel),
      ),
    );
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "yes");
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

export const when = (iso) => (iso ? new Date(iso).toLocaleString(locale()) : t("common.never"));
export const number = (n) => Number(n || 0).toLocaleString(locale());
/** A cost in USD, unrounded figures shown to 6 decimals at most. */
export const usd = (n) => `$${Number(n || 0).toLocaleString("en-US", { maximumFractionDigits: 6 })}`;
/** A per-token price as USD per million tokens, as catalogs show it. */
export const perMillion = (p) => `$${(Number(p || 0) * 1e6).toLocaleString("en-US", { maximumFractionDigits: 4 })}`;

export async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
    toast(t("common.copied"));
  } catch {
    toast(t("common.copyFailed"), "error");
  }
}
