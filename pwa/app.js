// The app: routes, the header, the service worker and its "update available" prompt, and every
// moment the outbox is flushed (open, online, visible again, a timer, "sync now", a new record).

import { initLang, lang, setLang, t } from './i18n/index.js';
import * as outbox from './outbox.js';
import { PHOTO_CACHE } from './pull.js';
import { get, getMeta } from './store.js';
import { newBlobBatch } from './views/dom.js';
import { editHouseholdView } from './views/edit.js';
import { householdDetailView } from './views/household.js';
import { householdsView } from './views/households.js';
import { signinView } from './views/signin.js';
import { syncView } from './views/sync.js';
import { todoView } from './views/todo.js';
import { visitFormView } from './views/visit.js';

const APP_VERSION = document.querySelector('meta[name="app-version"]')?.content || null;
const TICK_MS = 60 * 1000; // while the app is open and visible
const TICK_SETTING = 'zoufang.syncEveryMs'; // a test (or a support call) may set another period
const $ = (id) => document.getElementById(id);
// A session the cadre signed out of stays stored (whose records wait, who signed in last).
const active = (session) => (session && !session.signedOut ? session : null);

const ctx = {
  session: null,
  syncing: false,
  offlineProblem: null, // why this browser cannot keep the app offline, if it cannot
  state: { search: '' },
  online: () => navigator.onLine !== false,
  signedIn,
  queued,
  syncNow: () => runFlush(true),
  signOut,
  hideToast,
};

// A quarantined record opens in the form it was made with.
async function fixView(root, recordUuid) {
  const record = await get('outbox', recordUuid);
  if (record?.kind === 'household_edit') return editHouseholdView(root, ctx, { record });
  return visitFormView(root, ctx, { fixUuid: recordUuid });
}

let current = null; // the view on screen, with its refresh()

// ---------------------------------------------------------------- routing

const ROUTES = [
  [/^#\/h\/(\d+)$/, (root, m) => householdDetailView(root, ctx, Number(m[1]))],
  [/^#\/visit\/(\d+)$/, (root, m) => visitFormView(root, ctx, { householdId: Number(m[1]) })],
  [/^#\/edit\/(\d+)$/, (root, m) => editHouseholdView(root, ctx, { householdId: Number(m[1]) })],
  [/^#\/fix\/([0-9a-f-]+)$/, (root, m) => fixView(root, m[1])],
  [/^#\/sync$/, (root) => syncView(root, ctx)],
  [/^#\/todo$/, (root) => todoView(root, ctx)],
  [/^#\/signin$/, (root) => signinView(root, ctx)],
];

// Views render into a detached element; only the latest route goes on screen, so a slow
// view finishing late cannot cover the one the cadre went to since.
let generation = 0;

async function route() {
  const mine = ++generation;
  if (mine > toastUntil) hideToast();
  const releasePrevious = newBlobBatch();
  renderChrome();
  const root = document.createElement('div');
  let view = null;
  if (!ctx.session) {
    await signinView(root, ctx);
  } else {
    const hash = window.location.hash;
    const match = ROUTES.map(([pattern, render]) => [pattern.exec(hash), render]).find(([m]) => m);
    view = await (match ? match[1](root, match[0]) : householdsView(root, ctx));
  }
  if (mine !== generation) return;
  $('view').replaceChildren(root);
  current = view || null;
  releasePrevious();
  window.scrollTo(0, 0);
  root.querySelector('[autofocus]')?.focus();
}

let refreshQueued = false;
function refreshSoon() {
  renderChrome();
  if (refreshQueued || !current?.refresh) return;
  refreshQueued = true;
  setTimeout(async () => {
    refreshQueued = false;
    if (ctx.session) await current?.refresh(); // not after a sign-out
  }, 150);
}

// ---------------------------------------------------------------- header, banner, toast

async function renderChrome() {
  $('lang-toggle').textContent = lang() === 'en' ? '中文' : 'EN';
  const warning = $('no-offline');
  warning.hidden = !ctx.offlineProblem;
  if (ctx.offlineProblem) warning.textContent = t(ctx.offlineProblem);
  const pill = $('sync-pill');
  const { session } = ctx;
  if (!session) {
    pill.hidden = true;
    $('banner').hidden = true;
    return;
  }
  const summary = await outbox.queueSummary(session.user.id);
  if (!ctx.session) return; // signed out meanwhile
  const waiting = summary.waiting.length;
  const rejected = summary.rejected.length;
  pill.hidden = false;
  const failed = Boolean(summary.sync.lastError);
  pill.className = rejected ? 'pill bad' : waiting || failed ? 'pill waiting' : 'pill ok';
  // Both counts at once: records refused must not hide the ones still waiting, nor the reverse.
  const counts = [
    waiting ? t('pill.waiting', { n: waiting }) : null,
    rejected ? t('pill.attention', { n: rejected }) : null,
  ].filter(Boolean);
  const quiet = ctx.syncing ? t('pill.syncing') : t(failed ? 'pill.failed' : 'pill.synced');
  const words = [ctx.online() ? null : t('pill.offline'), ...(counts.length ? counts : [quiet])];
  // Each part whole on its line: on a narrow phone the pill breaks between parts only.
  pill.replaceChildren(...words.filter(Boolean).flatMap((word, i) => {
    const part = document.createElement('span');
    part.textContent = word;
    return i ? [' · ', part] : [part];
  }));
  const banner = $('banner');
  banner.hidden = !ctx.session.expired;
  if (ctx.session.expired) {
    banner.replaceChildren(t('banner.signIn', { n: waiting + rejected }), ' ');
    const link = document.createElement('a');
    link.href = '#/signin';
    link.textContent = t('banner.signInLink');
    banner.append(link);
  }
}

// "Saved" shows above the page the cadre lands on and stays there until the cadre goes on
// from that page (the route after the next): no timer takes it away under a finger.
let toastUntil = 0;
function toast(message) {
  const el = $('toast');
  el.textContent = message;
  el.hidden = false;
  toastUntil = generation + 1;
}

// A warning the cadre must read (signing out with records waiting) comes alone.
function hideToast() {
  $('toast').hidden = true;
}

// ---------------------------------------------------------------- sync triggers

let retryTimer = null;

async function runFlush(force) {
  if (!ctx.session || ctx.session.expired) return null;
  const result = await outbox.flush({ force, appVersion: APP_VERSION });
  ctx.session = active(await getMeta('session'));
  await scheduleRetry();
  refreshSoon();
  return result;
}

// After a failed flush (here or in the service worker), try again when its backoff ends.
async function scheduleRetry() {
  clearTimeout(retryTimer);
  const next = ((await getMeta('sync')) || {}).nextAttemptAt;
  if (next && next > Date.now()) {
    retryTimer = setTimeout(() => runFlush(false), next - Date.now() + 100);
  }
}

async function requestBackgroundSync() {
  try {
    const registration = await navigator.serviceWorker?.getRegistration();
    await registration?.sync?.register(outbox.FLUSH_TAG);
  } catch {
    // No Background Sync here (Safari, Firefox, WeChat): the page's own triggers do the work.
  }
}

function queued(message) {
  toast(message);
  requestBackgroundSync();
  runFlush(true);
}

// The timer's period: TICK_MS unless localStorage says otherwise (at least one second).
function tickMs() {
  let chosen = null;
  try { chosen = Number(localStorage.getItem(TICK_SETTING)); } catch { /* private mode */ }
  return chosen >= 1000 ? chosen : TICK_MS;
}

function watchTriggers() {
  window.addEventListener('online', () => { renderChrome(); runFlush(true); });
  window.addEventListener('offline', () => renderChrome());
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') runFlush(false);
  });
  setInterval(() => { if (document.visibilityState === 'visible') runFlush(false); }, tickMs());
  if (typeof BroadcastChannel === 'function') {
    new BroadcastChannel('zoufang').onmessage = ({ data }) => {
      if (data?.type === 'syncing') ctx.syncing = true;
      if (data?.type === 'synced') {
        ctx.syncing = false;
        scheduleRetry();
      }
      refreshSoon();
    };
  }
}

// ---------------------------------------------------------------- session

async function signedIn(answer) {
  const before = (await getMeta('session'))?.user?.id;
  await outbox.signedIn(answer);
  ctx.session = await getMeta('session');
  if (before && before !== ctx.session.user.id) await caches?.delete(PHOTO_CACHE);
  // Ask the browser not to evict the queue under storage pressure.
  navigator.storage?.persist?.().catch(() => {});
  window.location.hash = '#/';
  await route();
  runFlush(true);
}

// Records and photos stay on the phone, this cadre's, until this cadre signs in again.
async function signOut() {
  await outbox.signOut();
  ctx.session = null;
  window.location.hash = '#/signin';
  await route();
}

// ---------------------------------------------------------------- service worker

// What keeps the app from opening with no network on this browser, said on screen (a cadre
// never reads the console; records are still kept and sent online). -> an i18n key, or null.
function offlineProblem() {
  if (!window.isSecureContext) return 'offline.insecure';
  if (!('serviceWorker' in navigator) || typeof caches === 'undefined') return 'offline.noWorker';
  return null;
}

function showOfflineProblem(key) {
  ctx.offlineProblem = key;
  renderChrome();
}

async function registerWorker() {
  const problem = offlineProblem();
  if (problem) {
    showOfflineProblem(problem);
    return;
  }
  let accepted = false;
  const offer = (worker) => {
    if (!worker || !navigator.serviceWorker.controller) return; // a first install is no update
    const button = $('update');
    button.textContent = t('update.available');
    button.hidden = false;
    button.onclick = () => {
      accepted = true;
      button.disabled = true;
      worker.postMessage({ type: 'skip-waiting' });
    };
  };
  // Reload only when the cadre asked for the new version, never under their hands.
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (accepted) window.location.reload();
  });
  try {
    const registration = await navigator.serviceWorker.register('/sw.js', { type: 'module', scope: '/' });
    const watch = (worker) => worker?.addEventListener('statechange', () => {
      if (worker.state === 'installed') offer(worker);
    });
    offer(registration.waiting);
    watch(registration.installing); // an update found before this page listened
    registration.addEventListener('updatefound', () => watch(registration.installing));
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') registration.update().catch(() => {});
    });
  } catch (error) {
    console.warn('service worker not registered', error);
    showOfflineProblem('offline.noWorker');
  }
}

// ---------------------------------------------------------------- start

async function start() {
  initLang();
  $('lang-toggle').addEventListener('click', () => {
    setLang(lang() === 'en' ? 'zh-CN' : 'en');
    route();
  });
  try {
    ctx.session = active(await getMeta('session'));
  } catch (error) {
    // No IndexedDB (blocked, or a private window that refuses it): nothing could be kept.
    console.warn('no storage', error);
    $('view').replaceChildren(Object.assign(document.createElement('p'), {
      className: 'notice bad', textContent: t('offline.noStorage'),
    }));
    return;
  }
  window.addEventListener('hashchange', route);
  watchTriggers();
  await route();
  registerWorker();
  if (ctx.session && !ctx.session.expired) runFlush(true);
}

start();
