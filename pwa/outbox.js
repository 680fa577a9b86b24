// The outbox: records and photos made on the phone, sent when a network allows, removed from
// the queue only once the server acknowledged them. Runs in the page and in the service worker
// (Background Sync), so no DOM here.

import * as api from './api.js';
import { pullHouseholds } from './pull.js';
import { done, getAll, getMeta, setMeta, transaction } from './store.js';
import { DAY_MS, uuid } from './util.js';

export const BATCH_SIZE = 50;
export const FLUSH_TAG = 'zoufang-flush';
const BACKOFF_FIRST_MS = 5000;
const BACKOFF_MAX_MS = 10 * 60 * 1000;
const KEEP_SENT_MS = 30 * DAY_MS;
const ACKNOWLEDGED = new Set(['created', 'duplicate', 'merged']);
const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel('zoufang') : null;

// Tell every open page (and this one) that the queue or the households changed.
export function announce(type = 'changed') {
  channel?.postMessage({ type });
}

// ---------------------------------------------------------------- queueing

// The visit goes in before its photos, in the same transaction: nothing half-stored.
export async function queueVisit({ visitUuid, householdId, userId, data, photos }) {
  const now = new Date().toISOString();
  const record = {
    uuid: visitUuid, kind: 'visit', householdId, userId, data,
    state: 'waiting', createdAt: now, updatedAt: now, error: null,
  };
  await transaction(['outbox', 'photos'], 'readwrite', (s) => {
    s.outbox.put(record);
    for (const photo of photos) {
      s.photos.put({
        ...photo, visitUuid, householdId, userId, state: 'waiting', error: null, createdAt: now,
      });
    }
  });
  announce();
  return record;
}

export async function queueEdit({ uuid: recordUuid, householdId, userId, data }) {
  const now = new Date().toISOString();
  const record = {
    uuid: recordUuid, kind: 'household_edit', householdId, userId, data,
    state: 'waiting', createdAt: now, updatedAt: now, error: null,
  };
  await transaction('outbox', 'readwrite', (s) => s.outbox.put(record));
  announce();
  return record;
}

// A quarantined record, fixed by the cadre, goes back in the queue under the same uuid.
// asNew (the server answered uuid_taken: its UUID, or a crop's, belongs to another record):
// the record goes again as a new one, with fresh UUIDs for itself, its crops and its photos.
// The photos are re-keyed too: the server finds a photo's visit by the visit UUID sent with it,
// and a photo UUID known there under the other record would be answered "duplicate" without
// joining this visit. The server never stored any of them for this record (photos are sent
// only after their visit was acknowledged), so nothing on the server points at the old ones.
// -> the record's UUID from now on.
// removedPhotos: the record's photos the cadre took back while fixing it, deleted with it.
export async function resendRecord(recordUuid, data, newPhotos = [], { asNew = false, removedPhotos = [] } = {}) {
  const now = new Date().toISOString();
  const target = asNew ? uuid() : recordUuid;
  await transaction(['outbox', 'photos'], 'readwrite', async (s) => {
    const record = await done(s.outbox.get(recordUuid));
    if (!record) throw new Error('This record is no longer waiting.');
    removedPhotos.forEach((photoUuid) => s.photos.delete(photoUuid));
    let body = data;
    if (asNew) {
      const kept = (await done(s.photos.index('visitUuid').getAll(recordUuid)))
        .filter((p) => p.state !== 'sent' && !removedPhotos.includes(p.uuid));
      const renamed = new Map(kept.map((p) => [p.uuid, uuid()]));
      if (record.kind === 'visit') {
        body = {
          ...data,
          crops: (data.crops || []).map((crop) => ({ ...crop, uuid: uuid() })),
          photo_uuids: (data.photo_uuids || []).map((u) => renamed.get(u) || u),
        };
      }
      s.outbox.delete(recordUuid);
      for (const photo of kept) {
        s.photos.delete(photo.uuid);
        s.photos.put({ ...photo, uuid: renamed.get(photo.uuid), visitUuid: target, state: 'waiting', error: null });
      }
    }
    s.outbox.put({
      ...record, uuid: target, data: body, state: 'waiting', error: null, updatedAt: now,
      ...(asNew ? { replaces: recordUuid } : {}),
    });
    for (const photo of newPhotos) {
      s.photos.put({
        ...photo, visitUuid: target, householdId: record.householdId, userId: record.userId,
        state: 'waiting', error: null, createdAt: now,
      });
    }
  });
  announce();
  return target;
}

export async function retryPhoto(photoUuid) {
  await transaction('photos', 'readwrite', async (s) => {
    const photo = await done(s.photos.get(photoUuid));
    if (photo) s.photos.put({ ...photo, state: 'waiting', error: null });
  });
  announce();
}

export async function deletePhoto(photoUuid) {
  await transaction('photos', 'readwrite', (s) => s.photos.delete(photoUuid));
  announce();
}

// ---------------------------------------------------------------- reading the queue

// What still waits on this phone (records, and photos not yet sent), by the cadre who made it.
export async function waitingByUser() {
  const [outbox, photos, users] = await Promise.all([getAll('outbox'), getAll('photos'), getMeta('users')]);
  const counts = new Map();
  const entry = (userId) => {
    if (!counts.has(userId)) {
      counts.set(userId, { userId, user: (users || {})[userId] || null, records: 0, photos: 0 });
    }
    return counts.get(userId);
  };
  outbox.forEach((record) => { entry(record.userId).records += 1; });
  photos.filter((p) => p.state !== 'sent').forEach((photo) => { entry(photo.userId).photos += 1; });
  return [...counts.values()];
}

// The time a list shows for a record: a visit's own time, an edit's moment of saving.
export const shownTime = (record) =>
  Date.parse(record.kind === 'visit' ? record.data.visited_at : record.createdAt) || 0;

export async function queueSummary(userId) {
  const [outbox, sent, photos, sync] = await Promise.all([
    getAll('outbox'), getAll('sent'), getAll('photos'), getMeta('sync'),
  ]);
  const mine = (row) => userId === undefined || row.userId === userId;
  // Oldest first (the order they go in), by the time the list shows; IndexedDB gives UUID order.
  const queued = outbox.filter(mine).sort((a, b) => shownTime(a) - shownTime(b));
  return {
    waiting: queued.filter((r) => r.state === 'waiting'),
    rejected: queued.filter((r) => r.state === 'rejected'),
    sent: sent.filter(mine).sort((a, b) => (b.sentAt || '').localeCompare(a.sentAt || '')),
    photos: photos.filter(mine),
    sync: sync || {},
  };
}

async function storageFreeBytes() {
  try {
    const { quota, usage } = await navigator.storage.estimate();
    return Number.isFinite(quota) ? Math.max(0, Math.round(quota - usage)) : null;
  } catch {
    return null;
  }
}

async function deviceId() {
  let id = await getMeta('deviceId');
  if (!id) {
    id = uuid();
    await setMeta('deviceId', id);
  }
  return id;
}

export async function deviceStatus(appVersion) {
  const [outbox, photos] = await Promise.all([getAll('outbox'), getAll('photos')]);
  return {
    id: await deviceId(),
    app_version: appVersion || null,
    pending_records: outbox.length,
    pending_photos: photos.filter((p) => p.state !== 'sent').length,
    storage_free_bytes: await storageFreeBytes(),
  };
}

// ---------------------------------------------------------------- flushing

// One flush at a time across the page and the service worker.
let running = null;

function exclusive(work) {
  if (globalThis.navigator?.locks) {
    return navigator.locks.request('zoufang-flush', { ifAvailable: true }, (lock) =>
      (lock ? work() : { state: 'busy' }));
  }
  if (running) return Promise.resolve({ state: 'busy' });
  running = work().finally(() => { running = null; });
  return running;
}

async function updateSync(changes) {
  const sync = { ...((await getMeta('sync')) || {}), ...changes };
  await setMeta('sync', sync);
  return sync;
}

function backoffDelay(failures) {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** Math.max(0, failures - 1));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

// force: ignore the backoff (app open, back online, "sync now").
export function flush({ force = false, appVersion = null } = {}) {
  return exclusive(async () => {
    const session = await getMeta('session');
    if (!session || session.expired || session.signedOut) return { state: 'signed-out' };
    if (globalThis.navigator && navigator.onLine === false) return { state: 'offline' };
    const sync = (await getMeta('sync')) || {};
    if (!force && sync.nextAttemptAt && Date.now() < sync.nextAttemptAt) {
      return { state: 'backoff', nextAttemptAt: sync.nextAttemptAt };
    }
    announce('syncing');
    try {
      const ctx = { session, appVersion };
      await pushRecords(ctx);
      await uploadPhotos(ctx);
      await pullHouseholds(ctx);
      await pruneSent();
      await updateSync({
        lastSyncAt: new Date().toISOString(), failures: 0, nextAttemptAt: null, lastError: null,
      });
      return { state: 'ok' };
    } catch (error) {
      return await failed(error, sync);
    } finally {
      announce('synced');
    }
  });
}

async function failed(error, sync) {
  if (error instanceof api.ApiError && error.status === 401) {
    // The session ended (perhaps while offline): keep every record, ask for a new sign-in.
    const session = await getMeta('session');
    if (session) await setMeta('session', { ...session, expired: true });
    await updateSync({ lastError: { kind: 'auth', message: error.message } });
    return { state: 'signed-out' };
  }
  const failures = (sync.failures || 0) + 1;
  const nextAttemptAt = Date.now() + backoffDelay(failures);
  const kind = api.isTransient(error) ? 'network' : 'server';
  await updateSync({
    failures, nextAttemptAt,
    lastError: { kind, status: error.status || null, message: error.message },
  });
  return { state: 'error', error, nextAttemptAt };
}

// A CSRF token can go stale (a new session on the server): fetch it again once.
async function withCsrf(ctx, call) {
  try {
    return await call(ctx.session.csrf);
  } catch (error) {
    if (!(error instanceof api.ApiError && error.status === 403 && error.code === 'csrf_failed')) {
      throw error;
    }
    const fresh = await api.me();
    ctx.session = { ...ctx.session, csrf: fresh.csrf_token, user: fresh.user };
    await setMeta('session', ctx.session);
    return call(ctx.session.csrf);
  }
}

const byAge = (a, b) => a.createdAt.localeCompare(b.createdAt);

async function pushRecords(ctx) {
  const attempted = new Set();
  for (;;) {
    const outbox = await getAll('outbox');
    const batch = outbox
      .filter((r) => r.state === 'waiting' && r.userId === ctx.session.user.id && !attempted.has(r.uuid))
      .sort(byAge)
      .slice(0, BATCH_SIZE);
    if (!batch.length) return;
    batch.forEach((r) => attempted.add(r.uuid));
    const payload = {
      device: await deviceStatus(ctx.appVersion),
      records: batch.map((r) => ({ uuid: r.uuid, kind: r.kind, data: r.data })),
    };
    const response = await withCsrf(ctx, (csrf) => api.push(payload, csrf));
    await applyResults(batch, response.results || []);
  }
}

// Acknowledged records leave the queue for the history; rejected ones go to quarantine.
// A record edited since it was read (updatedAt moved) is left alone: it will be sent again.
async function applyResults(batch, results) {
  const sentNow = new Date().toISOString();
  const sentVersion = new Map(batch.map((r) => [r.uuid, r.updatedAt]));
  await transaction(['outbox', 'sent'], 'readwrite', async (s) => {
    for (const result of results) {
      const record = await done(s.outbox.get(result.uuid));
      if (!record || record.updatedAt !== sentVersion.get(result.uuid)) continue;
      if (ACKNOWLEDGED.has(result.status)) {
        s.outbox.delete(record.uuid);
        s.sent.put({ ...record, state: 'sent', sentAt: sentNow, result });
      } else if (result.status === 'rejected') {
        s.outbox.put({
          ...record,
          state: 'rejected',
          error: {
            code: result.code || 422, error: result.error || 'rejected',
            message: result.message || '', fields: result.fields || null, codes: result.codes || null,
          },
        });
      }
    }
  });
}

// Photos go one request each, after their visit was acknowledged; one blob in memory at a time.
async function uploadPhotos(ctx) {
  const sent = await getAll('sent');
  const acknowledged = new Set(sent.map((r) => r.uuid));
  const photos = (await getAll('photos')).filter(
    (p) => p.state === 'waiting' && p.userId === ctx.session.user.id && acknowledged.has(p.visitUuid),
  );
  for (const photo of photos.sort(byAge)) {
    try {
      await withCsrf(ctx, (csrf) => api.uploadPhoto(photo, csrf));
      await markPhoto(photo.uuid, { state: 'sent', blob: null, sentAt: new Date().toISOString() });
    } catch (error) {
      if (api.isTransient(error) || error.status === 401) throw error;
      if (error.code === 'visit_not_synced') continue; // the server has not got the visit yet
      if (error.status === 403 && error.code === 'csrf_failed') throw error;
      await markPhoto(photo.uuid, {
        state: 'rejected',
        error: { code: error.status, error: error.code, message: error.message },
      });
    }
    announce();
  }
}

async function markPhoto(photoUuid, changes) {
  await transaction('photos', 'readwrite', async (s) => {
    const photo = await done(s.photos.get(photoUuid));
    if (photo) s.photos.put({ ...photo, ...changes });
  });
}

// Local copies of sent records are history only; drop old ones whose photos are all sent.
async function pruneSent() {
  const cutoff = new Date(Date.now() - KEEP_SENT_MS).toISOString();
  await transaction(['sent', 'photos'], 'readwrite', async (s) => {
    const old = (await done(s.sent.getAll())).filter((r) => r.sentAt < cutoff);
    for (const record of old) {
      const photos = await done(s.photos.index('visitUuid').getAll(record.uuid));
      if (photos.every((p) => p.state === 'sent')) {
        s.sent.delete(record.uuid);
        photos.forEach((p) => s.photos.delete(p.uuid));
      }
    }
  });
}

// ---------------------------------------------------------------- session

// Another cadre signing in on this phone gets their own households; the records of the one
// before stay in the queue, theirs, until they sign in again (pushes only ever send the
// signed-in cadre's records). Names are kept to say whose records wait.
export async function signedIn(answer) {
  const previous = await getMeta('session');
  await setMeta('session', {
    user: answer.user, csrf: answer.csrf_token, expired: false, signedInAt: new Date().toISOString(),
  });
  const { id, username, display_name: displayName } = answer.user;
  await setMeta('users', { ...((await getMeta('users')) || {}), [id]: { username, display_name: displayName } });
  if (previous && previous.user.id !== answer.user.id) {
    await transaction('households', 'readwrite', (s) => s.households.clear());
    await setMeta('pull', {});
  }
  await updateSync({ failures: 0, nextAttemptAt: null, lastError: null });
  announce();
}

// Signing out keeps every record and photo on the phone: they wait, still this cadre's, for
// the next time this cadre signs in. The server's session ends if the network allows; offline,
// the phone alone forgets it (the next sign-in replaces the cookie anyway).
export async function signOut() {
  const session = await getMeta('session');
  if (!session) return;
  await setMeta('session', { ...session, signedOut: true });
  try {
    await api.logout(session.csrf);
  } catch {
    // Offline, or the session had already ended: nothing more to end.
  }
  announce();
}
