// The visit form: a routine visit takes a few taps. Time filled in, location in the background
// (never blocking the save), crops prefilled from the last visit, photos shrunk one at a time.

import { t } from '../i18n/index.js';
import { EVENTS, SITUATION, TRENDS } from '../codes.js';
import { householdView, lastCrops, lastMeasures, measureChoices, reportsOf } from '../model.js';
import * as outbox from '../outbox.js';
import { get } from '../store.js';
import { isoWithOffset, localInputValue, uuid } from '../util.js';
import { photoPicker } from './camera.js';
import { cropFieldset, readCrop } from './crops.js';
import { fill, h } from './dom.js';
import { rejectionNotice } from './rejection.js';

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

function measuresField(household, chosen) {
  const kinds = measureChoices(household, chosen);
  if (!kinds.length) return h('p', { class: 'muted' }, t('visit.noMeasures'));
  return h('div', { class: 'checks' }, kinds.map((kind) => h('label', { class: 'choice' },
    h('input', { type: 'checkbox', name: 'measures', value: kind, checked: chosen.includes(kind) }),
    h('span', null, t(`measure.${kind}`)))));
}

// The household's open self-reports (自主申报): ticking one says this visit answers it, and
// the server closes it when the visit arrives.
function reportsField(rows, chosen) {
  if (!rows.length) return null;
  return [h('h2', null, t('visit.reports')),
    h('div', { class: 'checks' }, rows.map(({ report }) => h('label', { class: 'choice' },
      h('input', { type: 'checkbox', name: 'report_ids', value: String(report.id), checked: chosen.includes(report.id) }),
      h('span', null, `${t(`reportCategory.${report.category}`)}${t('ui.colon')}${report.description}`))))];
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

function cropsField(crops) {
  const list = h('div', { class: 'crops' });
  const add = (crop) => list.append(cropFieldset(crop, (fieldset) => fieldset.remove()));
  crops.forEach(add);
  return {
    elements: [list, h('button', { type: 'button', class: 'big', onclick: () => add({ crop: 'kiwifruit' }) }, `+ ${t('crop.add')}`)],
    read: (seasonYear, problems) =>
      [...list.querySelectorAll('fieldset.crop')].map((f, i) => readCrop(f, seasonYear, problems, i)),
  };
}

// What the form starts from: a quarantined record as it was sent, or a new visit with the
// crops of the last visit (new UUIDs: they are new records).
function startingPoint(record, visits) {
  if (record) return record.data;
  return {
    visited_at: null, situation: {}, sudden_event: null, notes: '', needs: '', follow_up: '',
    crops: lastCrops(visits).map((c) => ({ ...c, uuid: uuid() })), location: null, photo_uuids: [],
    measures: lastMeasures(visits),
  };
}

function readVisit(form, { household, start, position, crops, camera }) {
  const problems = [];
  const visited = new Date(form.elements.visited_at.value);
  const valid = !Number.isNaN(visited.getTime());
  if (!valid) problems.push(t('visit.badTime'));
  const picked = (name) => form.querySelector(`input[name="${name}"]:checked`)?.value || '';
  const text = (name) => form.elements[name].value.trim() || null;
  const data = {
    household_id: household.id,
    visited_at: valid ? isoWithOffset(visited) : null,
    location: position,
    situation: Object.fromEntries(SITUATION.map((k) => [k, picked(`situation-${k}`) || 'same'])),
    sudden_event: picked('sudden_event') || null,
    notes: text('notes'),
    needs: text('needs'),
    follow_up: text('follow_up'),
    crops: crops.read(valid ? visited.getFullYear() : new Date().getFullYear(), problems),
    measures: [...form.querySelectorAll('input[name="measures"]:checked')].map((box) => box.value),
    photo_uuids: [
      ...(start.photo_uuids || []).filter((u) => !camera.removed().includes(u)),
      ...camera.photos().map((p) => p.uuid),
    ],
    report_ids: [...form.querySelectorAll('input[name="report_ids"]:checked')].map((box) => Number(box.value)),
  };
  return { data, problems };
}

// #/visit/<household id> records a new visit; #/fix/<uuid> edits a quarantined one.
export async function visitFormView(root, ctx, { householdId, fixUuid }) {
  const record = fixUuid ? await get('outbox', fixUuid) : null;
  if (fixUuid && !record) {
    fill(root, h('p', { class: 'empty' }, t('fix.gone')), h('a', { href: '#/sync' }, t('nav.sync')));
    return;
  }
  const view = await householdView(record ? record.householdId : householdId, ctx.session.user.id);
  if (!view) {
    fill(root, h('p', { class: 'empty' }, t('household.missing')));
    return;
  }
  const { household } = view;
  const start = startingPoint(record, view.visits);
  const reports = await reportsOf(view.pulled, ctx.session.user.id);
  const answering = start.report_ids || (start.report_id ? [start.report_id] : []);
  const state = { household, start, position: start.location || null };
  state.crops = cropsField(start.crops);
  const kept = record ? await Promise.all((start.photo_uuids || []).map((u) => get('photos', u))) : [];
  state.camera = photoPicker(kept.filter(Boolean));

  const locationStatus = h('p', { class: 'muted small', 'aria-live': 'polite' });
  if (record) {
    const at = state.position;
    locationStatus.textContent = at ? t('visit.located', { m: Math.round(at.accuracy_m) }) : t('visit.locationNone');
  } else {
    startLocating(locationStatus, (fix) => { state.position = fix; });
  }
  const errors = h('div', { class: 'notice bad', role: 'alert', hidden: true });
  const save = h('button', { type: 'submit', class: 'primary big' }, record ? t('fix.resend') : t('visit.save'));

  async function onSubmit(event) {
    event.preventDefault();
    save.disabled = true;
    try {
      await state.camera.ready(); // a photo still shrinking belongs to this visit
      const { data, problems } = readVisit(event.target, state);
      if (problems.length) {
        errors.replaceChildren(h('ul', { class: 'plain' }, problems.map((p) => h('li', null, p))));
        errors.hidden = false;
        errors.scrollIntoView({ block: 'center' });
        return;
      }
      const photos = state.camera.photos();
      // A UUID the server gave to another record: this one goes again as a new record.
      const asNew = record?.error?.error === 'uuid_taken';
      if (record) {
        await outbox.resendRecord(record.uuid, data, photos, { asNew, removedPhotos: state.camera.removed() });
      } else {
        await outbox.queueVisit({ visitUuid: uuid(), householdId: household.id, userId: ctx.session.user.id, data, photos });
      }
      ctx.queued(t(record ? 'fix.queued' : 'visit.queued'));
      // The form's place in the history becomes the household: Android's back button then
      // leads away from the household, never to a blank form where a tap stores a second visit.
      window.location.replace(`#/h/${household.id}`);
    } finally {
      save.disabled = false;
    }
  }

  const text = (name, value) => h('textarea', { name, rows: 2, maxlength: 2000 }, value || '');
  fill(root,
    h('a', { class: 'back', href: `#/h/${household.id}` }, `‹ ${household.head_name}`),
    h('h1', null, record ? t('fix.title') : t('visit.title'), h('small', null, ` · ${household.head_name}`)),
    record ? rejectionNotice(record.error) : null,
    h('form', { class: 'visit-form', onsubmit: onSubmit, novalidate: true },
      h('label', null, t('visit.time'), h('input', {
        type: 'datetime-local', name: 'visited_at', required: true,
        value: localInputValue(start.visited_at ? new Date(start.visited_at) : new Date()),
      })),
      locationStatus,
      h('h2', null, t('visit.situation')),
      SITUATION.map((key) => situationRow(key, start.situation?.[key])),
      reportsField(reports, answering),
      h('h2', null, t('visit.event')),
      eventRow(start.sudden_event),
      h('h2', null, t('visit.measures')),
      measuresField(household, start.measures || []),
      h('h2', null, t('visit.crops')),
      state.crops.elements,
      h('h2', null, t('visit.notes')), text('notes', start.notes),
      h('h2', null, t('visit.needs')), text('needs', start.needs),
      h('h2', null, t('visit.followUp')), text('follow_up', start.follow_up),
      h('h2', null, t('visit.photos')),
      state.camera.elements,
      errors,
      h('div', { class: 'sticky-save' }, save)),
  );
}
