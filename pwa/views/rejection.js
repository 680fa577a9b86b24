// Why the server refused a record, said with the form's own labels.

import { t } from '../i18n/index.js';
import { h } from './dom.js';

// The server's reasons, one line per field, under the form's own labels:
// {"crops": {"0": {"area_mu": ["..."]}}} -> "第 1 种作物 · 面积（亩）: ...".
const FIELD_LABELS = {
  visited_at: 'visit.time', notes: 'visit.notes', needs: 'visit.needs', follow_up: 'visit.followUp',
  sudden_event: 'visit.event', situation: 'visit.situation', crops: 'visit.crops', photo_uuids: 'visit.photos',
  location: 'visit.location', crop: 'crop.kind', crop_name: 'crop.name', area_mu: 'crop.area',
  plants: 'crop.plants', yield_kg: 'crop.yield', expected_income_fen: 'crop.income',
  health: 'situation.health', income: 'situation.income', housing: 'situation.housing',
  schooling: 'situation.schooling',
};

function fieldLabel(path) {
  const parts = path.split('.');
  if (parts[0] === 'crops' && /^\d+$/.test(parts[1] || '')) {
    const rest = parts.slice(2).map((p) => (FIELD_LABELS[p] ? t(FIELD_LABELS[p]) : p));
    return [t('crop.label', { n: Number(parts[1]) + 1 }), ...rest].join(' · ');
  }
  return parts.map((p) => (FIELD_LABELS[p] ? t(FIELD_LABELS[p]) : p)).join(' · ');
}

function reasonLines(error) {
  const lines = [];
  const walk = (value, path) => {
    if (Array.isArray(value)) value.forEach((v) => (typeof v === 'string' ? lines.push(`${fieldLabel(path)}: ${v}`) : walk(v, path)));
    else if (value && typeof value === 'object') Object.entries(value).forEach(([k, v]) => walk(v, path ? `${path}.${k}` : k));
    else if (value) lines.push(`${fieldLabel(path)}: ${value}`);
  };
  walk(error?.fields, '');
  return lines;
}

export function rejectionNotice(error) {
  return h('div', { class: 'notice bad rejection', role: 'alert' },
    h('strong', null, t('fix.reason')), ' ',
    error?.error === 'validation_failed' ? t('fix.invalid') : error?.message || '',
    h('ul', { class: 'plain' }, reasonLines(error).map((line) => h('li', null, line))));
}
