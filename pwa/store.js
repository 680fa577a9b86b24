// IndexedDB in a few promise wrappers. Rule: never await the network inside an open
// transaction (it would auto-commit under us): read, let it close, send, then write.

const DB_NAME = 'zoufang';
const DB_VERSION = 1;

// meta:       {key, ...}: session, device id, pull cursor, sync state.
// households: the cadre's households as the last pull gave them.
// outbox:     records waiting to be sent, or quarantined (state "rejected") until fixed.
// sent:       acknowledged records, kept as local history until the pull shows them.
// photos:     resized photos and their upload state.
function upgrade(db, oldVersion) {
  if (oldVersion < 1) {
    db.createObjectStore('meta', { keyPath: 'key' });
    db.createObjectStore('households', { keyPath: 'id' });
    db.createObjectStore('outbox', { keyPath: 'uuid' }).createIndex('householdId', 'householdId');
    db.createObjectStore('sent', { keyPath: 'uuid' }).createIndex('householdId', 'householdId');
    const photos = db.createObjectStore('photos', { keyPath: 'uuid' });
    photos.createIndex('visitUuid', 'visitUuid');
    photos.createIndex('householdId', 'householdId');
  }
}

let opening = null;

export function openDb() {
  if (!opening) {
    opening = new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = (event) => upgrade(request.result, event.oldVersion);
      request.onsuccess = () => {
        const db = request.result;
        // A newer app version wants to upgrade the schema: let it, reopen on next use.
        db.onversionchange = () => { db.close(); opening = null; };
        resolve(db);
      };
      request.onerror = () => { opening = null; reject(request.error); };
    });
  }
  return opening;
}

export function done(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

// Runs work({storeName: objectStore, ...}) in one transaction; resolves with its result once
// the transaction has committed. work may await IndexedDB requests, nothing else.
export async function transaction(names, mode, work) {
  const db = await openDb();
  const list = [names].flat();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(list, mode);
    const stores = Object.fromEntries(list.map((name) => [name, tx.objectStore(name)]));
    let result;
    tx.oncomplete = () => resolve(result);
    tx.onabort = () => reject(tx.error || new Error('transaction aborted'));
    Promise.resolve()
      .then(() => work(stores, tx))
      .then((value) => { result = value; }, (error) => {
        try { tx.abort(); } catch { /* already finished */ }
        reject(error);
      });
  });
}

export const get = (store, key) => transaction(store, 'readonly', (s) => done(s[store].get(key)));
export const getAll = (store) => transaction(store, 'readonly', (s) => done(s[store].getAll()));
export const put = (store, value) => transaction(store, 'readwrite', (s) => done(s[store].put(value)));
export const remove = (store, key) =>
  transaction(store, 'readwrite', (s) => done(s[store].delete(key)));
export const count = (store) => transaction(store, 'readonly', (s) => done(s[store].count()));

export function byIndex(store, index, key) {
  return transaction(store, 'readonly', (s) => done(s[store].index(index).getAll(key)));
}

export async function getMeta(key) {
  const row = await get('meta', key);
  return row ? row.value : undefined;
}

export const setMeta = (key, value) => put('meta', { key, value });
