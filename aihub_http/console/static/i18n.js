// English and Simplified Chinese. The language follows the browser and can be switched; a
// message missing from one language falls back to English (a test checks none is missing).
import { en } from "./locales/en.js";
import { zh } from "./locales/zh.js";

export const MESSAGES = { en, zh };
let current = "en";

export function setLocale(lang) {
  current = lang in MESSAGES ? lang : "en";
  document.documentElement.lang = current === "zh" ? "zh-CN" : "en";
}

/** The BCP 47 tag for dates and numbers. */
export const locale = () => (current === "zh" ? "zh-CN" : "en");
/** The language's short code, as the switcher names it (en, zh). */
export const language = () => current;

/** The message `key` in the current language, with `{name}` placeholders filled from `values`. */
export function t(key, values = {}) {
  const text = MESSAGES[current][key] ?? en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

/** Re-translate the static parts of the page (elements with data-i18n). */
export function translate(root) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
}
