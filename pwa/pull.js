// Pull: the cadre's households and what changed for them since the server's cursor (a change
// sequence, never the phone's clock), kept in IndexedDB for use offline.

import * as api from './api.js';
import { done, getMeta, transaction } from './store.js';

// The households of whoever is signed in; a different user on this phone starts afresh.
export async function pullHouseholds(ctx) {
  const userId = ctx.session.user.id;
  let state = (await getMeta('pull')) || {};
  if (state.userId !== userId) {
    await transaction('households', 'readwrite', (s) => s.households.clear());
    state = { userId, cursor: null, settings: state.settings || null, codes: state.codes || null };
  }
  let fresh = null; // ids seen by a pull started over, to drop the others at its end
  for (let page = 0; page < 1000; page += 1) {
    let answer;
    try {
      answer = await api.pull(state.cursor);
    } catch (error) {
      if (!(error instanceof api.ApiError && error.code === 'bad_cursor') || !state.cursor) throw error;
      // The server no longer knows this cursor (a restored database): pull everything again,
      // keeping what the phone has until the new answer is complete.
      fresh = new Set();
      state = { ...state, cursor: null };
      answer = await api.pull(null);
    }
    state = {
      userId, cursor: answer.cursor, settings: answer.settings || state.settings, codes: answer.codes || state.codes,
    };
    const households = answer.households || [];
    households.forEach((household) => fresh?.add(household.id));
    const pulledAt = new Date().toISOString();
    await transaction(['households', 'meta'], 'readwrite', async (s) => {
      for (const household of households) s.households.put({ ...household, pulledAt });
      for (const id of answer.removed || []) s.households.delete(id);
      if (fresh && !answer.more) {
        const stale = (await done(s.households.getAllKeys())).filter((id) => !fresh.has(id));
        stale.forEach((id) => s.households.delete(id));
      }
      s.meta.put({ key: 'pull', value: state });
    });
    await keepThumbnails(households);
    if (!answer.more) return;
  }
}

// Thumbnails of the latest visits, fetched while there is a network, so the visit history
// shows its photos in the village too (the service worker answers from this cache).
export const PHOTO_CACHE = 'zoufang-photos';
const THUMB_VISITS = 3;

async function keepThumbnails(households) {
  if (typeof caches === 'undefined') return;
  const cache = await caches.open(PHOTO_CACHE);
  for (const household of households) {
    const visits = (household.visits || []).filter((v) => (v.photos || []).length).slice(0, THUMB_VISITS);
    for (const photo of visits.flatMap((v) => v.photos)) {
      if (!photo.thumb_url || (await cache.match(photo.thumb_url))) continue;
      try {
        const response = await fetch(photo.thumb_url, { credentials: 'same-origin' });
        if (response.ok) await cache.put(photo.thumb_url, response);
      } catch {
        return; // the network went away: the next sync carries on
      }
    }
  }
}
