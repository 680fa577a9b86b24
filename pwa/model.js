// What the views show: the pulled households joined with the visits still on this phone.

import { MEASURES } from './codes.js';
import { byIndex, get, getAll, getMeta } from './store.js';
import { DAY_MS } from './util.js';

const time = (iso) => (iso ? Date.parse(iso) : null);

// Local visits (queued or sent) make a household's last visit newer than the last pull knew.
export function dueInfo(household, localLast, rhythmDays, now = Date.now()) {
  const serverLast = time(household.last_visit_at);
  if (localLast && (!serverLast || localLast > serverLast)) {
    const days = rhythmDays && rhythmDays[household.klass];
    const due = days ? localLast + days * DAY_MS : null;
    return { last: localLast, due, overdue: due !== null && due < now };
  }
  const due = time(household.next_due_at);
  // Never visited counts as due now; a due date is judged against today, not the pull's day.
  const overdue = due === null ? serverLast === null || Boolean(household.overdue) : due < now;
  return { last: serverLast, due, overdue };
}

function byUrgency(a, b) {
  if (a.due.overdue !== b.due.overdue) return a.due.overdue ? -1 : 1;
  const ad = a.due.due ?? -Infinity;
  const bd = b.due.due ?? -Infinity;
  if (ad !== bd) return ad - bd;
  return a.household.head_name.localeCompare(b.household.head_name, 'zh-CN');
}

async function localRecords(userId) {
  const [outbox, sent] = await Promise.all([getAll('outbox'), getAll('sent')]);
  return [...outbox, ...sent].filter((r) => r.kind === 'visit' && r.userId === userId);
}

export async function householdRows(userId) {
  const [households, records, pull] = await Promise.all([
    getAll('households'), localRecords(userId), getMeta('pull'),
  ]);
  const rhythm = pull?.settings?.rhythm_days || null;
  const lastLocal = new Map();
  const pending = new Map();
  for (const record of records) {
    const at = time(record.data.visited_at);
    const id = record.householdId;
    if (at > (lastLocal.get(id) || 0)) lastLocal.set(id, at);
    if (record.state !== 'sent') pending.set(id, (pending.get(id) || 0) + 1);
  }
  return households
    .map((household) => ({
      household,
      due: dueInfo(household, lastLocal.get(household.id), rhythm),
      pending: pending.get(household.id) || 0,
    }))
    .sort(byUrgency);
}

export function matches(row, query) {
  const q = query.trim().toLowerCase();
  if (!q) return true;
  const h = row.household;
  return [h.head_name, h.village?.name, h.code, ...(h.members || []).map((m) => m.name)]
    .some((text) => text && text.toLowerCase().includes(q));
}

// Server visits and local ones in one list, newest first; the server's copy wins once pulled.
export async function householdView(householdId, userId) {
  const household = await get('households', householdId);
  if (!household) return null;
  const [queued, sent, photos, pull] = await Promise.all([
    byIndex('outbox', 'householdId', householdId),
    byIndex('sent', 'householdId', householdId),
    byIndex('photos', 'householdId', householdId),
    getMeta('pull'),
  ]);
  const mine = [...sent, ...queued].filter((r) => r.userId === userId);
  const visits = new Map();
  for (const record of mine.filter((r) => r.kind === 'visit')) {
    visits.set(record.uuid, { ...record.data, uuid: record.uuid, local: record });
  }
  // Edits not yet acknowledged show on top of the pulled household, oldest first.
  const edits = queued.filter((r) => r.kind === 'household_edit' && r.userId === userId)
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  for (const visit of household.visits || []) {
    const local = visits.get(visit.uuid)?.local;
    visits.set(visit.uuid, { ...visit, local: local?.state === 'sent' ? null : local });
  }
  const list = [...visits.values()].sort((a, b) => time(b.visited_at) - time(a.visited_at));
  const localLast = list.filter((v) => v.local).map((v) => time(v.visited_at))[0];
  return {
    household: edits.reduce((h, r) => applyChanges(h, r.data.changes), household),
    pendingCrops: pendingCrops(list),
    pulled: household,
    edits,
    visits: list,
    photos,
    due: dueInfo(household, localLast, pull?.settings?.rhythm_days),
  };
}

// Crops recorded at visits not yet acknowledged (newest first), which the pulled household
// cannot list yet, each with the record that carries it.
function pendingCrops(visits) {
  return visits.filter((v) => v.local && v.local.state !== 'sent')
    .flatMap((v) => (v.crops || []).map((crop) => ({ crop, record: v.local })));
}

export function applyChanges(household, changes) {
  const members = (household.members || []).map((m) => ({ ...m, ...(changes.members?.[String(m.id)] || {}) }));
  return { ...household, ...('phone' in changes ? { phone: changes.phone } : {}), members };
}

// The crops of the most recent visit that had some: a routine visit repeats them.
export function lastCrops(visits) {
  const withCrops = visits.find((v) => (v.crops || []).length);
  return withCrops ? withCrops.crops : [];
}

// The measures the last visit saw carried out: a routine visit confirms the same ones.
export function lastMeasures(visits) {
  return visits.length ? visits[0].measures || [] : [];
}

// What the visit form offers: the household's measures in force, and any the last visit had.
export function measureChoices(household, chosen) {
  const kinds = new Set([...(household.measures || []).map((m) => m.kind), ...chosen]);
  return MEASURES.filter((kind) => kinds.has(kind));
}

// ---------------------------------------------------------------- self-reports (自主申报)

// The statuses counted as open come from the server with the pull (server/sync/pull.py
// CODES); the server sends only open reports, so without the list every one it sent is open.
function isOpen(report, codes) {
  const open = codes?.report_open_statuses;
  return !open || open.includes(report.status);
}

export function reportLate(report, now = Date.now()) {
  return Boolean(report.due_at) && time(report.due_at) <= now;
}

// Reports a visit on this phone already answers (queued or sent, not yet pulled back).
function answeredHere(records) {
  return new Set(records.flatMap((r) => r.data.report_ids || []));
}

function byReportUrgency(a, b) {
  const late = Number(reportLate(b.report)) - Number(reportLate(a.report));
  if (late) return late;
  if (a.report.priority !== b.report.priority) return a.report.priority - b.report.priority;
  return time(a.report.received_at) - time(b.report.received_at);
}

// A household's open reports, each with whether a visit here already answers it.
export function householdReports(household, records, codes) {
  const answered = answeredHere(records);
  return (household.reports || []).filter((r) => isOpen(r, codes))
    .map((report) => ({ report, household, answered: answered.has(report.id) }))
    .sort(byReportUrgency);
}

// The to-do list (待办): every open report of the cadre's households, late ones first.
export async function todoRows(userId) {
  const [households, records, pull] = await Promise.all([
    getAll('households'), localRecords(userId), getMeta('pull'),
  ]);
  return households.flatMap((h) => householdReports(h, records, pull?.codes)).sort(byReportUrgency);
}

// What the visit form and the household page show for one household.
export async function reportsOf(household, userId) {
  const [records, pull] = await Promise.all([localRecords(userId), getMeta('pull')]);
  return householdReports(household, records, pull?.codes);
}
