// Small helpers shared by the page and the service worker (no DOM here).

// A random v4 UUID; crypto.randomUUID where the browser has it.
export function uuid() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const pad = (n, width = 2) => String(Math.trunc(Math.abs(n))).padStart(width, '0');

// "2026-05-01T09:30:00+08:00": the device's wall clock with its offset, as the server wants.
export function isoWithOffset(date = new Date()) {
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}` +
    `${sign}${pad(offset / 60)}:${pad(offset % 60)}`;
}

// The value of an <input type="datetime-local"> for a date, in local time.
export function localInputValue(date = new Date()) {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

// Money travels as integer fen; parse the yuan the cadre typed without going through floats.
const YUAN = /^(\d{1,10})(?:\.(\d{1,2}))?$/;

export function yuanToFen(text) {
  const match = YUAN.exec(String(text).trim());
  if (!match) return null;
  return Number(match[1]) * 100 + Number((match[2] || '').padEnd(2, '0'));
}

export function fenToYuan(fen) {
  if (fen === null || fen === undefined) return '';
  const yuan = Math.trunc(fen / 100);
  const cents = fen % 100;
  return cents ? `${yuan}.${pad(cents)}`.replace(/0$/, '') : String(yuan);
}

// Areas are decimal mu, kept as strings end to end.
export function isArea(text) {
  return /^\d{1,6}(\.\d{1,2})?$/.test(String(text).trim());
}

// "0.50" -> "0.5", "6.00" -> "6": how a cadre writes an area.
export function formatArea(text) {
  const value = String(text ?? '');
  return value.includes('.') ? value.replace(/\.?0+$/, '') : value;
}

export const DAY_MS = 24 * 3600 * 1000;
