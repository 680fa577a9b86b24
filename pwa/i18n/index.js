// Strings by key, Chinese first; English on request. {name} placeholders are filled in.

import en from './en.js';
import zh from './zh-CN.js';

const CATALOGS = { 'zh-CN': zh, en };
const STORAGE_KEY = 'zoufang.lang';
let current = 'zh-CN';

// The server's pages keep the choice in a "lang" cookie (zh_CN or en): follow it too.
function cookieLang() {
  const match = /(?:^|;\s*)lang=([^;]+)/.exec(globalThis.document?.cookie || '');
  return match && match[1] === 'en' ? 'en' : match ? 'zh-CN' : null;
}

export function initLang() {
  let saved = null;
  try { saved = localStorage.getItem(STORAGE_KEY); } catch { /* private mode */ }
  setLang(saved || cookieLang() || 'zh-CN', false);
}

export function setLang(code, remember = true) {
  current = CATALOGS[code] ? code : 'zh-CN';
  document.documentElement.lang = current;
  if (remember) {
    try { localStorage.setItem(STORAGE_KEY, current); } catch { /* private mode */ }
  }
}

export const lang = () => current;

export function t(key, params = {}) {
  const text = CATALOGS[current][key] ?? CATALOGS['zh-CN'][key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (params[name] ?? '').toString());
}

const formatters = {};
function formatter(kind) {
  const key = `${current}:${kind}`;
  if (!formatters[key]) {
    const options = kind === 'date'
      ? { year: 'numeric', month: '2-digit', day: '2-digit' }
      : { month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false };
    formatters[key] = new Intl.DateTimeFormat(current, options);
  }
  return formatters[key];
}

export const formatDate = (value) => (value ? formatter('date').format(new Date(value)) : '');
export const formatDateTime = (value) => (value ? formatter('datetime').format(new Date(value)) : '');

export function formatBytes(bytes) {
  if (bytes === null || bytes === undefined) return '';
  const units = ['B', 'KB', 'MB', 'GB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return `${value.toFixed(unit > 1 ? 1 : 0)} ${units[unit]}`;
}

// "3 days ago" / "in 5 days" / "today" in whole days.
export function relativeDays(timestamp, now = Date.now()) {
  const days = Math.round((timestamp - now) / 86400000);
  if (days === 0) return t('days.today');
  return days > 0 ? t('days.in', { n: days }) : t('days.ago', { n: -days });
}
