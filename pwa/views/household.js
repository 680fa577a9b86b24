// One household: members, class, phone, crops, visits with photos, open reports.

import { formatDate, formatDateTime, relativeDays, t } from '../i18n/index.js';
import { SITUATION } from '../codes.js';
import { householdView, reportsOf } from '../model.js';
import { fenToYuan, formatArea } from '../util.js';
import { blobUrl, fill, h, klassBadge } from './dom.js';
import { reportItem } from './todo.js';

export function cropLine(crop) {
  const name = crop.crop === 'other' ? crop.crop_name || t('crop.other') : t(`crop.${crop.crop}`);
  const parts = [`${name} ${t('crop.areaValue', { mu: formatArea(crop.area_mu) })}`];
  if (crop.plants) parts.push(t('crop.plantsValue', { n: crop.plants }));
  if (crop.yield_kg) parts.push(t('crop.yieldValue', { kg: crop.yield_kg }));
  if (crop.expected_income_fen !== null && crop.expected_income_fen !== undefined) {
    parts.push(t('crop.incomeValue', { yuan: fenToYuan(crop.expected_income_fen) }));
  }
  if (crop.season_year) parts.push(String(crop.season_year));
  return parts.join(' · ');
}

function stateChip(record) {
  if (!record) return null;
  if (record.state === 'rejected') return h('a', { class: 'chip rejected', href: `#/fix/${record.uuid}` }, t('state.rejected'));
  if (record.state === 'waiting') return h('span', { class: 'chip waiting' }, t('state.waiting'));
  return null;
}

function photoStrip(visit, localPhotos) {
  const server = visit.photos || [];
  const known = new Set(server.map((p) => p.uuid));
  const items = server.map((p) => h('img', { src: p.thumb_url, alt: t('visit.photo'), loading: 'lazy' }));
  for (const photo of localPhotos.filter((p) => p.visitUuid === visit.uuid && !known.has(p.uuid))) {
    items.push(h('figure', { class: `local ${photo.state}` },
      photo.thumb ? h('img', { src: blobUrl(photo.thumb), alt: t('visit.photo') }) : null,
      photo.state === 'sent' ? null : h('figcaption', null, t(`photo.${photo.state}`))));
  }
  return items.length ? h('div', { class: 'photos' }, items) : null;
}

function measureItem(measure) {
  const facts = [
    measure.detail,
    measure.amount_fen ? t('measure.amount', { yuan: fenToYuan(measure.amount_fen) }) : null,
    t('measure.since', { date: formatDate(measure.started_on) }),
  ].filter(Boolean).join(' · ');
  return h('li', null, h('strong', null, t(`measure.${measure.kind}`)), h('span', { class: 'muted' }, ` ${facts}`));
}

function visitItem(visit, localPhotos) {
  const changes = SITUATION.filter((k) => visit.situation && visit.situation[k] && visit.situation[k] !== 'same')
    .map((k) => h('span', { class: `chip trend-${visit.situation[k]}` },
      `${t(`situation.${k}`)}${t('ui.colon')}${t(`trend.${visit.situation[k]}`)}`));
  return h('li', { class: 'visit' },
    h('div', { class: 'visit-head' }, h('strong', null, formatDateTime(visit.visited_at)), stateChip(visit.local)),
    h('div', { class: 'chips' },
      changes.length ? changes : h('span', { class: 'muted' }, t('visit.noChange')),
      visit.sudden_event ? h('span', { class: 'chip event' }, t(`event.${visit.sudden_event}`)) : null,
      (visit.measures || []).map((kind) => h('span', { class: 'chip measure' }, t(`measure.${kind}`)))),
    visit.notes ? h('p', null, visit.notes) : null,
    (visit.crops || []).length ? h('ul', { class: 'plain' }, visit.crops.map((c) => h('li', null, cropLine(c)))) : null,
    visit.needs ? h('p', null, h('b', null, `${t('visit.needs')}${t('ui.colon')}`), visit.needs) : null,
    visit.follow_up ? h('p', null, h('b', null, `${t('visit.followUp')}${t('ui.colon')}`), visit.follow_up) : null,
    photoStrip(visit, localPhotos));
}

function memberItem(m) {
  const facts = [m.relation, m.birth_year, m.health, m.labour_capacity].filter(Boolean).join(' · ');
  return h('li', null, h('strong', null, m.name), h('span', { class: 'muted' }, ` ${facts}`),
    h('div', { class: 'muted small' }, m.id_number));
}

function editLine(record) {
  return h('p', null, t('household.pendingEdit'), ' ', stateChip(record));
}

function section(title, ...content) {
  return h('section', { class: 'block' }, h('h2', null, title), ...content);
}

export async function householdDetailView(root, ctx, householdId) {
  async function render() {
    const view = await householdView(householdId, ctx.session.user.id);
    if (!view) {
      fill(root, h('p', { class: 'empty' }, t('household.missing')), h('a', { href: '#/' }, t('nav.back')));
      return;
    }
    const { household, visits, photos, due, edits, pendingCrops } = view;
    const crops = [
      ...pendingCrops.map(({ crop, record }) => h('li', { class: 'pending' }, cropLine(crop), ' ', stateChip(record))),
      ...(household.crops || []).map((c) => h('li', null, cropLine(c))),
    ];
    const reports = await reportsOf(view.pulled, ctx.session.user.id);
    fill(root, 
      h('a', { class: 'back', href: '#/' }, `‹ ${t('nav.households')}`),
      h('header', { class: 'household-head' },
        h('h1', null, klassBadge(household.klass, t(`klass.${household.klass}`)), ' ', household.head_name),
        h('p', { class: 'muted' }, `${household.village?.name || ''} · ${household.code} · ${t(`klass.${household.klass}`)}`),
        household.address ? h('p', { class: 'muted' }, household.address) : null,
        h('p', null, due.due
          ? h('span', { class: due.overdue ? 'due overdue' : 'due' },
            t(due.overdue ? 'due.overdue' : 'due.next', { when: relativeDays(due.due) }))
          : h('span', { class: 'due overdue' }, t('due.never')))),
      h('div', { class: 'actions' },
        h('a', { class: 'button primary big', href: `#/visit/${household.id}` }, t('household.record')),
        household.phone
          ? h('a', { class: 'button big', href: `tel:${household.phone}` }, `☎ ${household.phone}`)
          : null),
      edits.length ? h('div', { class: 'notice' }, edits.map(editLine)) : null,
      reports.length ? section(t('household.reports'), h('ul', { class: 'plain reports' }, reports.map((r) => reportItem(r)))) : null,
      section(t('household.members'), h('ul', { class: 'plain' }, (household.members || []).map(memberItem)),
        h('a', { class: 'button', href: `#/edit/${household.id}` }, t('household.edit'))),
      section(t('household.measures'), (household.measures || []).length
        ? h('ul', { class: 'plain' }, household.measures.map(measureItem))
        : h('p', { class: 'muted' }, t('household.noMeasures'))),
      section(t('household.crops'), crops.length
        ? h('ul', { class: 'plain crops-list' }, crops)
        : h('p', { class: 'muted' }, t('household.noCrops'))),
      section(t('household.visits'), visits.length
        ? h('ul', { class: 'visits' }, visits.map((v) => visitItem(v, photos)))
        : h('p', { class: 'muted' }, t('household.noVisits'))),
    );
  }
  await render();
  return { refresh: render };
}
