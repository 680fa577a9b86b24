// Why the server refused a record, in the cadre's language: the form's own labels for the
// fields, a sentence for each of the server's stable codes, the server's own words kept as
// the detail.

import { FIELD_CODES } from '../codes.js';
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

// The server's stable code for each refused field (codes.js, from server/errors.py) is said
// in the cadre's words by the catalogue's code.<name>; the server's own words are kept below
// as the detail, and a code this version does not know gets the generic sentence.
const camel = (code) => code.replace(/_(\w)/g, (_, letter) => letter.toUpperCase());

// What the whole refusal means, by the server's error code.
const CODES = {
  validation_failed: 'fix.invalid', not_found: 'error.notFound', uuid_taken: 'error.uuidTaken',
  checksum_mismatch: 'error.checksum', bad_image: 'error.badImage', too_large: 'error.tooLarge',
  photo_conflict: 'error.photoConflict',
};

export function explainCode(code) {
  return FIELD_CODES.includes(code) ? t(`code.${camel(code)}`) : t('code.unknown');
}

export function explainError(error) {
  return t(CODES[error?.error] || 'error.unknown');
}

// Why a flush stopped, never the browser's own words ("Failed to fetch").
export function explainFailure(lastError) {
  if (!lastError?.status) return t('sync.failedNetwork');
  return t('sync.failedServer', { status: lastError.status });
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

// {"crops": {"0": {"area_mu": ["..."]}}} -> Map {"crops.0.area_mu" => ["..."]}.
function leaves(tree) {
  const found = new Map();
  const walk = (value, path) => {
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) found.set(path, value);
    else if (Array.isArray(value)) value.forEach((v) => walk(v, path));
    else if (value && typeof value === 'object') Object.entries(value).forEach(([k, v]) => walk(v, path ? `${path}.${k}` : k));
    else if (value !== null && value !== undefined) found.set(path, [String(value)]);
  };
  walk(tree, '');
  return found;
}

// One line per refused field and code: the label, the sentence, the server's words below.
function reasonLines(error) {
  const said = leaves(error?.fields);
  const codes = leaves(error?.codes);
  const lines = [];
  for (const path of new Set([...codes.keys(), ...said.keys()])) {
    const field = fieldLabel(path);
    const words = said.get(path) || [];
    const count = Math.max(words.length, (codes.get(path) || []).length);
    for (let i = 0; i < count; i += 1) {
      const reason = explainCode(codes.get(path)?.[i]);
      lines.push(h('li', null, field ? t('fix.line', { field, reason }) : reason,
        words[i] ? h('span', { class: 'detail' }, words[i]) : null));
    }
  }
  return lines;
}

export function rejectionNotice(error) {
  const serverWords = error?.message && !error.fields ? error.message : null;
  return h('div', { class: 'notice bad rejection', role: 'alert' },
    h('strong', null, t('fix.reason')), ' ', explainError(error),
    serverWords ? h('span', { class: 'detail' }, serverWords) : null,
    h('ul', { class: 'plain' }, reasonLines(error)));
}
