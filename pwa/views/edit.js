// Offline edits of what a cadre sees change: the household's phone, each member's health and
// labour capacity. Only changed fields travel, with the version they were based on; the server
// merges per field and keeps both values when the office changed the same one meanwhile.

import { t } from '../i18n/index.js';
import { applyChanges, householdView } from '../model.js';
import * as outbox from '../outbox.js';
import { uuid } from '../util.js';
import { fill, h } from './dom.js';
import { rejectionNotice } from './rejection.js';

const HEALTH = ['健康', '长期慢性病', '大病', '残疾'];
const LABOUR = ['普通劳动力', '弱劳动力', '丧失劳动力', '无劳动力'];
const PHONE = /^[0-9+\- ]{5,20}$/;

function select(name, options, current) {
  const values = current && !options.includes(current) ? [current, ...options] : options;
  return h('select', { name, value: current || '' },
    h('option', { value: '' }, '—'),
    values.map((v) => h('option', { value: v }, v)));
}

// What the form shows: the pulled household with the phone's own pending edits on top.
function memberRow(member) {
  return h('fieldset', { class: 'member', 'data-id': member.id },
    h('legend', null, `${member.name} · ${member.relation}`),
    h('div', { class: 'grid2' },
      h('label', null, t('edit.health'), select('health', HEALTH, member.health)),
      h('label', null, t('edit.labour'), select('labour_capacity', LABOUR, member.labour_capacity))));
}

function readChanges(root, household) {
  const changes = {};
  const phone = root.querySelector('input[name=phone]').value.trim();
  if (phone !== (household.phone || '')) changes.phone = phone || null;
  const members = {};
  for (const fieldset of root.querySelectorAll('fieldset.member')) {
    const member = household.members.find((m) => String(m.id) === fieldset.dataset.id);
    const edits = {};
    for (const name of ['health', 'labour_capacity']) {
      const value = fieldset.querySelector(`[name=${name}]`).value || null;
      if (value !== (member[name] || null)) edits[name] = value;
    }
    if (Object.keys(edits).length) members[String(member.id)] = edits;
  }
  if (Object.keys(members).length) changes.members = members;
  return changes;
}

// #/edit/<household id>, or #/fix/<uuid> for a quarantined edit.
export async function editHouseholdView(root, ctx, { householdId, record = null }) {
  const id = record ? record.householdId : householdId;
  const view = await householdView(id, ctx.session.user.id);
  if (!view) {
    fill(root, h('p', { class: 'empty' }, t('household.missing')));
    return;
  }
  // The form starts from what the cadre saw, a fix from what was sent.
  const household = record ? applyChanges(view.pulled, record.data.changes) : view.household;
  const base = record ? record.data.base_version : view.pulled.version;
  const phone = h('input', { name: 'phone', type: 'tel', inputmode: 'tel', value: household.phone || '' });
  const errors = h('div', { class: 'notice bad', role: 'alert', hidden: true });
  const save = h('button', { type: 'submit', class: 'primary big' }, record ? t('fix.resend') : t('visit.save'));

  async function onSubmit(event) {
    event.preventDefault();
    const changes = readChanges(root, record ? view.pulled : household);
    if (changes.phone && !PHONE.test(changes.phone)) {
      errors.textContent = t('edit.badPhone');
      errors.hidden = false;
      return;
    }
    if (!Object.keys(changes).length) {
      window.location.hash = `#/h/${id}`;
      return;
    }
    save.disabled = true;
    const data = { household_id: id, base_version: base, changes };
    if (record) await outbox.resendRecord(record.uuid, data, [], { asNew: record.error?.error === 'uuid_taken' });
    else await outbox.queueEdit({ uuid: uuid(), householdId: id, userId: ctx.session.user.id, data });
    ctx.queued(t(record ? 'fix.queued' : 'edit.queued'));
    window.location.replace(`#/h/${id}`); // back then skips the form, as after a visit
  }

  fill(root,
    h('a', { class: 'back', href: `#/h/${id}` }, `‹ ${household.head_name}`),
    h('h1', null, record ? t('fix.title') : t('edit.title'), h('small', null, ` · ${household.head_name}`)),
    record ? rejectionNotice(record.error) : null,
    h('p', { class: 'muted small' }, t('edit.hint')),
    h('form', { class: 'visit-form', onsubmit: onSubmit, novalidate: true },
      h('label', null, t('edit.phone'), phone),
      h('h2', null, t('household.members')),
      (household.members || []).map(memberRow),
      errors,
      h('div', { class: 'sticky-save' }, save)));
}
