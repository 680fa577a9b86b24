// The visit form: a routine visit takes a few taps. Time filled in, location in the background
// (never blocking the save), crops prefilled from the last visit, photos shrunk one at a time.

import { t } from '../i18n/index.js';
import { CROPS, EVENTS, householdView, lastCrops, SITUATION, TRENDS } from '../model.js';
import * as outbox from '../outbox.js';
import { preparePhoto } from '../photos.js';
import { get } from '../store.js';
import { fenToYuan, formatArea, isArea, isoWithOffset, localInputValue, uuid, yuanToFen } from '../util.js';
import { blobUrl, fill, h } from './dom.js';

const WHOLE = /^\d{1,9}$/;

function choice(name, value, label, checked) {
  return h('label', { class: 'choice' },
    h('input', { type: 'radio', name, value, checked }), h('span', null, label));
}

function situationRow(key, current) {
  const label = t(`situation.${key}`);
  return h('div', { class: 'row', role: 'radiogroup', 'aria-label': label },
    h('span', { class: 'row-label' }, label),
    h('div', { class: 'segmented' },
      TRENDS.map((trend) => choice(`situation-${key}`, trend, t(`trend.${trend}`), (current || 'same') === trend))));
}

function eventRow(current) {
  return h('div', { class: 'segmented wrap' },
    choice('sudden_event', '', t('event.none'), !current),
    EVENTS.map((e) => choice('sudden_event', e, t(`event.${e}`), current === e)));
}

function numberInput(name, value, mode = 'numeric') {
  return h('input', { name, inputmode: mode, autocomplete: 'off', value: value ?? '' });
}

function cropFieldset(crop, onRemove) {
  const kind = h('select', { name: 'crop', value: crop.crop || 'kiwifruit' },
    CROPS.map((c) => h('option', { value: c }, t(`crop.${c}`))));
  const named = h('label', { class: 'crop-name' }, t('crop.name'),
    h('input', { name: 'crop_name', value: crop.crop_name || '', maxlength: 32 }));
  const showName = () => { named.hidden = kind.value !== 'other'; };
  kind.addEventListener('change', showName);
  const fieldset = h('fieldset', { class: 'crop', 'data-uuid': crop.uuid || uuid() },
    h('div', { class: 'crop-top' }, h('label', null, t('crop.kind'), kind),
      h('button', { type: 'button', class: 'link danger', onclick: () => onRemove(fieldset) }, t('crop.remove'))),
    named,
    h('div', { class: 'grid2' },
      h('label', null, t('crop.area'), numberInput('area_mu', formatArea(crop.area_mu), 'decimal')),
      h('label', null, t('crop.income'), numberInput('income_yuan', fenToYuan(crop.expected_income_fen), 'decimal')),
      h('label', null, t('crop.plants'), numberInput('plants', crop.plants)),
      h('label', null, t('crop.yield'), numberInput('yield_kg', crop.yield_kg))));
  showName();
  return fieldset;
}

function readCrop(fieldset, seasonYear, errors, index) {
  const value = (name) => fieldset.querySelector(`[name=${name}]`).value.trim();
  const crop = {
    uuid: fieldset.dataset.uuid, crop: value('crop'),
    crop_name: value('crop') === 'other' ? value('crop_name') || null : null,
    area_mu: value('area_mu'), plants: null, yield_kg: null, expected_income_fen: null,
    season_year: seasonYear,
  };
  const fail = (key) => errors.push(`${t('crop.label', { n: index + 1 })}: ${t(key)}`);
  if (crop.crop === 'other' && !crop.crop_name) fail('crop.needName');
  if (!isArea(crop.area_mu)) fail('crop.badArea');
  for (const name of ['plants', 'yield_kg']) {
    if (!value(name)) continue;
    if (WHOLE.test(value(name))) crop[name] = Number(value(name));
    else fail('crop.badNumber');
  }
  if (value('income_yuan')) {
    crop.expected_income_fen = yuanToFen(value('income_yuan'));
    if (crop.expected_income_fen === null) fail('crop.badIncome');
  }
  return crop;
}

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

function startLocating(status, onFix) {
  if (!navigator.geolocation) {
    status.textContent = t('visit.locationNone');
    return;
  }
  status.textContent = t('visit.locating');
  navigator.geolocation.getCurrentPosition(
    (position) => {
      const { latitude, longitude, accuracy } = position.coords;
      onFix({ lat: latitude, lon: longitude, accuracy_m: Math.round(accuracy * 10) / 10 });
      status.textContent = t('visit.located', { m: Math.round(accuracy) });
    },
    () => { status.textContent = t('visit.locationNone'); },
    { enableHighAccuracy: true, timeout: 60000, maximumAge: 120000 },
  );
}

// #/visit/<household id> records a new visit; #/fix/<uuid> edits a quarantined one.
export async function visitFormView(root, ctx, { householdId, fixUuid }) {
  const record = fixUuid ? await get('outbox', fixUuid) : null;
  if (fixUuid && !record) {
    fill(root, h('p', { class: 'empty' }, t('fix.gone')), h('a', { href: '#/sync' }, t('nav.sync')));
    return;
  }
  const id = record ? record.householdId : householdId;
  const view = await householdView(id, ctx.session.user.id);
  if (!view) {
    fill(root, h('p', { class: 'empty' }, t('household.missing')));
    return;
  }
  const { household } = view;
  const start = record ? record.data : {
    visited_at: null, situation: {}, sudden_event: null, notes: '', needs: '', follow_up: '',
    crops: lastCrops(view.visits).map((c) => ({ ...c, uuid: uuid() })), location: null, photo_uuids: [],
  };
  let position = start.location || null;
  const newPhotos = [];
  let photoWork = Promise.resolve();

  const when = h('input', {
    type: 'datetime-local', name: 'visited_at', required: true,
    value: localInputValue(start.visited_at ? new Date(start.visited_at) : new Date()),
  });
  const locationStatus = h('p', { class: 'muted small', 'aria-live': 'polite' });
  const crops = h('div', { class: 'crops' });
  const removeCrop = (fieldset) => fieldset.remove();
  const addCrop = (crop) => crops.append(cropFieldset(crop, removeCrop));
  start.crops.forEach(addCrop);
  const text = (name, value) => h('textarea', { name, rows: 2, maxlength: 2000 }, value || '');
  const notes = text('notes', start.notes);
  const needs = text('needs', start.needs);
  const followUp = text('follow_up', start.follow_up);
  const thumbs = h('div', { class: 'photos' });
  const photoStatus = h('p', { class: 'muted small', 'aria-live': 'polite' });
  const camera = h('input', {
    type: 'file', accept: 'image/*', capture: 'environment', multiple: true, class: 'visually-hidden', id: 'camera',
  });
  const errors = h('div', { class: 'notice bad', role: 'alert', hidden: true });
  const save = h('button', { type: 'submit', class: 'primary big' }, record ? t('fix.resend') : t('visit.save'));

  if (record) {
    const existing = (await Promise.all((start.photo_uuids || []).map((u) => get('photos', u)))).filter(Boolean);
    existing.forEach((p) => p.thumb && thumbs.append(h('figure', null, h('img', { src: blobUrl(p.thumb), alt: t('visit.photo') }))));
    locationStatus.textContent = position ? t('visit.located', { m: Math.round(position.accuracy_m) }) : t('visit.locationNone');
  } else {
    startLocating(locationStatus, (fix) => { position = fix; });
  }

  function showPhoto(photo) {
    const figure = h('figure', null, h('img', { src: blobUrl(photo.thumb), alt: t('visit.photo') }),
      h('button', {
        type: 'button', class: 'remove', 'aria-label': t('visit.removePhoto'),
        onclick: () => { newPhotos.splice(newPhotos.indexOf(photo), 1); figure.remove(); },
      }, '×'));
    thumbs.append(figure);
  }

  // One photo at a time, each finished (and its bitmap freed) before the next one starts.
  camera.addEventListener('change', () => {
    const files = [...camera.files];
    camera.value = '';
    photoWork = photoWork.then(async () => {
      for (const [index, file] of files.entries()) {
        photoStatus.textContent = t('visit.processing', { n: index + 1, total: files.length });
        try {
          const photo = await preparePhoto(file);
          newPhotos.push(photo);
          showPhoto(photo);
        } catch {
          photoStatus.textContent = t('visit.photoFailed');
          return;
        }
      }
      photoStatus.textContent = '';
    });
  });

  function collect() {
    const problems = [];
    const visited = new Date(when.value);
    if (Number.isNaN(visited.getTime())) problems.push(t('visit.badTime'));
    const form = root.querySelector('form');
    const picked = (name) => form.querySelector(`input[name="${name}"]:checked`)?.value || '';
    const seasonYear = Number.isNaN(visited.getTime()) ? new Date().getFullYear() : visited.getFullYear();
    const data = {
      household_id: household.id,
      visited_at: Number.isNaN(visited.getTime()) ? null : isoWithOffset(visited),
      location: position,
      situation: Object.fromEntries(SITUATION.map((k) => [k, picked(`situation-${k}`) || 'same'])),
      sudden_event: picked('sudden_event') || null,
      notes: notes.value.trim() || null,
      needs: needs.value.trim() || null,
      follow_up: followUp.value.trim() || null,
      crops: [...crops.querySelectorAll('fieldset.crop')].map((f, i) => readCrop(f, seasonYear, problems, i)),
      photo_uuids: [...(start.photo_uuids || []), ...newPhotos.map((p) => p.uuid)],
      report_id: start.report_id ?? null,
    };
    return { data, problems };
  }

  async function onSubmit(event) {
    event.preventDefault();
    save.disabled = true;
    try {
      await photoWork;
      const { data, problems } = collect();
      if (problems.length) {
        errors.replaceChildren(h('ul', { class: 'plain' }, problems.map((p) => h('li', null, p))));
        errors.hidden = false;
        errors.scrollIntoView({ block: 'center' });
        return;
      }
      const photos = newPhotos.map(({ uuid: u, blob, thumb, sha256, width, height, size }) =>
        ({ uuid: u, blob, thumb, sha256, width, height, size }));
      if (record) {
        await outbox.resendRecord(record.uuid, data, photos);
      } else {
        await outbox.queueVisit({
          visitUuid: uuid(), householdId: household.id, userId: ctx.session.user.id, data, photos,
        });
      }
      ctx.queued(t(record ? 'fix.queued' : 'visit.queued'));
      window.location.hash = `#/h/${household.id}`;
    } finally {
      save.disabled = false;
    }
  }

  fill(root, 
    h('a', { class: 'back', href: `#/h/${household.id}` }, `‹ ${household.head_name}`),
    h('h1', null, record ? t('fix.title') : t('visit.title'), h('small', null, ` · ${household.head_name}`)),
    record ? rejectionNotice(record.error) : null,
    h('form', { class: 'visit-form', onsubmit: onSubmit, novalidate: true },
      h('label', null, t('visit.time'), when),
      locationStatus,
      h('h2', null, t('visit.situation')),
      SITUATION.map((key) => situationRow(key, start.situation?.[key])),
      h('h2', null, t('visit.event')),
      eventRow(start.sudden_event),
      h('h2', null, t('visit.crops')),
      crops,
      h('button', { type: 'button', class: 'big', onclick: () => addCrop({ crop: 'kiwifruit' }) }, `+ ${t('crop.add')}`),
      h('h2', null, t('visit.notes')), notes,
      h('h2', null, t('visit.needs')), needs,
      h('h2', null, t('visit.followUp')), followUp,
      h('h2', null, t('visit.photos')),
      thumbs,
      camera,
      h('label', { for: 'camera', class: 'button big' }, `＋ ${t('visit.takePhoto')}`),
      photoStatus,
      errors,
      h('div', { class: 'sticky-save' }, save)),
  );
}
