// Why the server refused a record, in the cadre's language: the form's own labels for the
// fields, a sentence for each known reason, and the server's own words kept as the detail.

import { t } from '../i18n/index.js';
import { h } from './dom.js';

// {"crops": {"0": {"area_mu": ["..."]}}} -> "第 1 种作物 · 面积（亩）".
const FIELD_LABELS = {
  visited_at: 'visit.time', notes: 'visit.notes', needs: 'visit.needs', follow_up: 'visit.followUp',
  sudden_event: 'visit.event', situation: 'visit.situation', crops: 'visit.crops', photo_uuids: 'visit.photos',
  location: 'visit.location', crop: 'crop.kind', crop_name: 'crop.name', area_mu: 'crop.area',
  plants: 'crop.plants', yield_kg: 'crop.yield', expected_income_fen: 'crop.income',
  season_year: 'crop.season', health: 'situation.health', income: 'situation.income',
  housing: 'situation.housing', schooling: 'situation.schooling', household_id: 'field.household',
  report_id: 'field.report', report_ids: 'field.report', base_version: 'field.version', phone: 'edit.phone',
  members: 'household.members', labour_capacity: 'edit.labour', uuid: 'field.uuid',
  measures: 'visit.measures',
};
const HIDDEN_PARTS = new Set(['changes', '_schema']);

// The server's sentences (marshmallow's and its own) -> a key, and the numbers they carry.
const REASONS = [
  [/^Missing data for required field\.$/, 'reason.required'],
  [/^Field may not be null\.$/, 'reason.required'],
  [/^Not a valid integer\.$/, 'reason.integer'],
  [/^Not a valid number\.$/, 'reason.number'],
  [/^Must be greater than or equal to (?<min>\S+) and less than or equal to (?<max>\S+)\.$/, 'reason.range'],
  [/^Must be greater than or equal to (?<min>\S+)\.$/, 'reason.min'],
  [/^Must be one of: /, 'reason.oneOf'],
  [/^Unknown field\.$/, 'reason.unknown'],
  [/^Not a plausible date\.$/, 'reason.date'],
  [/^Not a valid (aware )?datetime\.$/, 'reason.date'],
  [/^Longer than maximum length (?<max>\d+)\.$/, 'reason.tooLong'],
  [/^Length must be between (?<min>\d+) and (?<max>\d+)\.$/, 'reason.length'],
  [/^Name the crop\.$/, 'crop.needName'],
  [/^The same \w+ appears twice\.$/, 'reason.twice'],
  [/^Already used by another visit\.$/, 'reason.usedElsewhere'],
  [/^No such household in your scope\.$/, 'reason.noHousehold'],
  [/^No such report/, 'reason.noReport'],
  [/^No such member in this household\.$/, 'reason.noMember'],
  [/^Newer than the household's version\.$/, 'reason.newerVersion'],
  [/^must be a phone number$/, 'edit.badPhone'],
];

// What the whole refusal means, by the server's error code.
const CODES = {
  validation_failed: 'fix.invalid', not_found: 'error.notFound', uuid_taken: 'error.uuidTaken',
  checksum_mismatch: 'error.checksum', bad_image: 'error.badImage', too_large: 'error.tooLarge',
  photo_conflict: 'error.photoConflict',
};

export function explainMessage(message) {
  for (const [pattern, key] of REASONS) {
    const match = pattern.exec(message);
    if (match) return t(key, match.groups || {});
  }
  return message;
}

export function explainError(error) {
  const key = CODES[error?.error];
  return key ? t(key) : error?.message || '';
}

function fieldLabel(path) {
  const parts = path.split('.').filter((p) => p && !HIDDEN_PARTS.has(p));
  const words = [];
  for (let i = 0; i < parts.length; i += 1) {
    if (parts[i] === 'crops' && /^\d+$/.test(parts[i + 1] || '')) {
      words.push(t('crop.label', { n: Number(parts[i + 1]) + 1 }));
      i += 1;
    } else {
      words.push(FIELD_LABELS[parts[i]] ? t(FIELD_LABELS[parts[i]]) : parts[i]);
    }
  }
  return words.join(' · ');
}

// One line per message: the label, the explanation, and the server's words if they differ.
function reasonLines(error) {
  const lines = [];
  const add = (path, message) => {
    const said = explainMessage(message);
    const field = fieldLabel(path);
    lines.push(h('li', null, field ? t('fix.line', { field, reason: said }) : said,
      said !== message ? h('span', { class: 'detail' }, message) : null));
  };
  const walk = (value, path) => {
    if (Array.isArray(value)) value.forEach((v) => (typeof v === 'string' ? add(path, v) : walk(v, path)));
    else if (value && typeof value === 'object') Object.entries(value).forEach(([k, v]) => walk(v, path ? `${path}.${k}` : k));
    else if (value) add(path, String(value));
  };
  walk(error?.fields, '');
  return lines;
}

export function rejectionNotice(error) {
  const said = explainError(error);
  const serverWords = error?.message && error.message !== said && !error.fields ? error.message : null;
  return h('div', { class: 'notice bad rejection', role: 'alert' },
    h('strong', null, t('fix.reason')), ' ', said,
    serverWords ? h('span', { class: 'detail' }, serverWords) : null,
    h('ul', { class: 'plain' }, reasonLines(error)));
}
