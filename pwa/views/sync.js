// Sync state at a glance: what waits, when the last sync was, what needs the cadre's attention.

import { formatBytes, formatDateTime, t } from '../i18n/index.js';
import * as outbox from '../outbox.js';
import { getAll } from '../store.js';
import { blobUrl, fill, h } from './dom.js';
import { explainError, explainFailure, rejectionNotice } from './rejection.js';
import { waitingNotices } from './signin.js';

const LOW_STORAGE_BYTES = 200 * 1024 * 1024;

async function storage() {
  try {
    const { quota, usage } = await navigator.storage.estimate();
    return { quota, usage, free: quota - usage };
  } catch {
    return null;
  }
}

function statusLine(sync, ctx) {
  if (ctx.session?.expired) return h('p', { class: 'notice bad' }, t('sync.signedOut'));
  if (ctx.syncing) return h('p', { class: 'notice' }, t('sync.running'));
  if (!ctx.online()) return h('p', { class: 'notice' }, t('sync.offline'));
  if (sync.lastError) {
    const retry = sync.nextAttemptAt ? t('sync.retryAt', { time: formatDateTime(sync.nextAttemptAt) }) : '';
    return h('p', { class: 'notice bad' }, `${t('sync.failed', { reason: explainFailure(sync.lastError) })} ${retry}`);
  }
  return null;
}

function photoLine(photo, thumbUrl) {
  return h('li', { class: `photo-line ${photo.state}` },
    photo.thumb ? h('img', { src: thumbUrl(photo), alt: t('visit.photo') }) : null,
    h('span', { class: `chip ${photo.state}` }, t(`photo.${photo.state}`)),
    photo.error ? h('span', { class: 'small' }, explainError(photo.error)) : null,
    photo.state === 'rejected'
      ? [h('button', { type: 'button', class: 'link', onclick: () => outbox.retryPhoto(photo.uuid) }, t('sync.retry')),
        h('button', {
          type: 'button', class: 'link danger',
          onclick: () => window.confirm(t('sync.deletePhotoConfirm')) && outbox.deletePhoto(photo.uuid),
        }, t('sync.deletePhoto'))]
      : null);
}

function recordItem(ctx, record, names, photosByVisit, thumbUrl) {
  const photos = photosByVisit.get(record.uuid) || [];
  const stateKey = record.state === 'rejected' ? 'rejected' : record.state;
  return h('li', { class: `record ${record.state}`, 'data-uuid': record.uuid },
    h('div', { class: 'record-head' },
      h('strong', null, names.get(record.householdId) || `#${record.householdId}`),
      h('span', { class: `chip ${record.state}` }, t(`state.${stateKey}`))),
    h('div', { class: 'muted small' },
      record.kind === 'household_edit'
        ? t('sync.editAt', { time: formatDateTime(record.createdAt) })
        : t('sync.visitAt', { time: formatDateTime(record.data.visited_at) }),
      record.sentAt ? ` · ${t('sync.sentAt', { time: formatDateTime(record.sentAt) })}` : ''),
    (record.result?.conflicts || []).length
      ? h('p', { class: 'notice' }, t('sync.conflicts', { n: record.result.conflicts.length }))
      : null,
    record.state === 'rejected'
      ? [rejectionNotice(record.error), h('a', { class: 'button primary', href: `#/fix/${record.uuid}` }, t('sync.fix')),
        record.error?.error === 'uuid_taken' ? h('button', {
          type: 'button', class: 'button resend-new',
          onclick: async () => {
            await outbox.resendRecord(record.uuid, record.data, [], { asNew: true });
            ctx.queued(t('fix.queued'));
          },
        }, t('sync.resendAsNew')) : null]
      : null,
    photos.length ? h('ul', { class: 'plain photo-list' }, photos.map((p) => photoLine(p, thumbUrl))) : null);
}

// Signing out keeps the queue; with records or photos waiting, say how many first.
function accountSection(root, ctx, session, summary, ui) {
  const name = session.user.display_name;
  const records = summary.waiting.length + summary.rejected.length;
  const photos = summary.photos.filter((p) => p.state !== 'sent').length;
  const ask = () => {
    if (!records && !photos) return ctx.signOut();
    ui.confirming = true;
    ctx.hideToast();
    return ui.render().then(() => {
      root.querySelector('[data-testid=sign-out-warning]')?.scrollIntoView({ block: 'nearest' });
    });
  };
  return h('section', { class: 'block account' },
    h('h2', null, t('account.title')),
    h('p', null, t('account.who', { name })),
    ui.confirming
      ? h('div', { class: 'notice bad', role: 'alert', 'data-testid': 'sign-out-warning' },
        h('p', null, t('account.waiting', { records, photos, name })),
        h('div', { class: 'actions' },
          h('button', { type: 'button', class: 'primary', id: 'sign-out-anyway', onclick: () => ctx.signOut() }, t('account.signOutAnyway')),
          h('button', { type: 'button', onclick: () => { ui.confirming = false; ui.render(); } }, t('account.cancel'))))
      : h('button', { type: 'button', class: 'big', id: 'sign-out', onclick: ask }, t('account.signOut')));
}

export async function syncView(root, ctx) {
  const ui = { confirming: false, render: () => render() };
  // The page redraws at every step of a flush. One object URL per photo for the view's life:
  // a fresh URL each time made every thumbnail load again (blank until decoded, slow on a
  // cheap phone) and left the old URLs behind until the cadre changed page.
  const thumbs = new Map();
  const thumbUrl = (photo) => {
    if (!thumbs.has(photo.uuid)) thumbs.set(photo.uuid, blobUrl(photo.thumb));
    return thumbs.get(photo.uuid);
  };
  async function render() {
    const { session } = ctx;
    if (!session) return; // signed out meanwhile
    const userId = session.user.id;
    const [summary, households, space] = await Promise.all([
      outbox.queueSummary(userId), getAll('households'), storage(),
    ]);
    const names = new Map(households.map((hh) => [hh.id, hh.head_name]));
    const photosByVisit = new Map();
    for (const photo of summary.photos) {
      photosByVisit.set(photo.visitUuid, [...(photosByVisit.get(photo.visitUuid) || []), photo]);
    }
    const waitingPhotos = summary.photos.filter((p) => p.state === 'waiting').length;
    const sync = summary.sync;
    const low = space && space.free < LOW_STORAGE_BYTES;
    const recent = summary.sent.slice(0, 20);
    const others = await waitingNotices(userId);
    fill(root, 
      h('h1', null, t('sync.title')),
      statusLine(sync, ctx),
      session.expired ? h('a', { class: 'button primary big', href: '#/signin' }, t('sync.signIn')) : null,
      h('dl', { class: 'facts' },
        h('dt', null, t('sync.waitingRecords')), h('dd', { 'data-testid': 'waiting-records' }, summary.waiting.length),
        h('dt', null, t('sync.waitingPhotos')), h('dd', { 'data-testid': 'waiting-photos' }, waitingPhotos),
        h('dt', null, t('sync.attention')), h('dd', { 'data-testid': 'attention' }, summary.rejected.length),
        h('dt', null, t('sync.last')), h('dd', null, sync.lastSyncAt ? formatDateTime(sync.lastSyncAt) : t('sync.never')),
        space ? [h('dt', null, t('sync.storage')),
          h('dd', { class: low ? 'bad' : '' }, t('sync.free', { free: formatBytes(space.free) }))] : null),
      low ? h('p', { class: 'notice bad' }, t('sync.lowStorage')) : null,
      h('button', {
        type: 'button', class: 'primary big', id: 'sync-now',
        onclick: () => ctx.syncNow(),
      }, t('sync.now')),
      others,
      summary.rejected.length ? h('h2', null, t('sync.needsAttention')) : null,
      h('ul', { class: 'records' }, summary.rejected.map((r) => recordItem(ctx, r, names, photosByVisit, thumbUrl))),
      summary.waiting.length ? h('h2', null, t('sync.waitingList')) : null,
      h('ul', { class: 'records' }, summary.waiting.map((r) => recordItem(ctx, r, names, photosByVisit, thumbUrl))),
      recent.length ? h('h2', null, t('sync.sentList')) : null,
      h('ul', { class: 'records' }, recent.map((r) => recordItem(ctx, r, names, photosByVisit, thumbUrl))),
      accountSection(root, ctx, session, summary, ui),
    );
  }
  await render();
  return { refresh: render };
}
