/**
 * Lenient readers of decoded JSON fields, shared by the converters.
 * @module
 */

import { APIError } from './errors.js';

/** @typedef {Record<string, any>} Json */

/** @param {unknown} value @returns {Json} */
export const obj = (value) =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? /** @type {Json} */ (value) : {};
/** @param {unknown} value @returns {string | null} */
export const optStr = (value) => (typeof value === 'string' ? value : null);
/** @param {unknown} value @returns {number | null} */
export const optNum = (value) => (typeof value === 'number' && Number.isFinite(value) ? value : null);
/** @param {unknown} value @returns {number} */
export const num = (value) => optNum(value) ?? 0;
/** @param {unknown} value @returns {string[]} */
export const strs = (value) => (Array.isArray(value) ? value.filter((v) => typeof v === 'string') : []);
/** @param {string} text */
export const camel = (text) => text.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());

/**
 * @param {Json} data
 * @param {string} key
 * @param {string} what
 * @returns {string}
 */
export function required(data, key, what) {
  const value = data[key];
  if (typeof value === 'number' && key.endsWith('id')) return String(value);
  if (typeof value !== 'string') {
    throw new APIError(`Unexpected answer from the gateway: ${what} has no "${key}"`, { type: 'api_error' });
  }
  return value;
}

/**
 * @template {object} T
 * @param {T} answer
 * @param {Json} body
 * @returns {T}
 */
export function withRaw(answer, body) {
  return Object.defineProperty(answer, 'raw', { value: body, enumerable: false });
}

/**
 * What an answer's headers say about it.
 * @param {Headers} headers
 */
