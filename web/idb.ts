/**
 * The page's one IndexedDB database, `chatapp`: `identities` (each name's
 * keys, web/identity.ts), `received` (each name's replay memory,
 * web/received.ts) and `pins` (the identity keys each name has exchanged
 * private messages with, web/pins.ts). Nothing in it leaves the browser.
 */

const DB_NAME = 'chatapp';
/** 1: identities; 2: + received, pins. An upgrade adds what is missing and keeps the rest. */
const DB_VERSION = 2;
export const IDENTITIES = 'identities';
export const RECEIVED = 'received';
export const PINS = 'pins';

/** A request's result as a promise. */
export function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

/** Opens the database, creating or upgrading its stores. */
export function openDb(): Promise<IDBDatabase> {
  const open = indexedDB.open(DB_NAME, DB_VERSION);
  open.onupgradeneeded = () => {
    for (const store of [IDENTITIES, RECEIVED, PINS]) {
      if (!open.result.objectStoreNames.contains(store)) open.result.createObjectStore(store);
    }
  };
  return request(open);
}

/** Reads `key` of `store` (undefined when absent). */
export async function getValue(store: string, key: string): Promise<unknown> {
  const db = await openDb();
  try {
    return await request(db.transaction(store).objectStore(store).get(key));
  } finally {
    db.close();
  }
}

/** Writes `value` at `key` of `store`. */
export async function putValue(store: string, key: string, value: unknown): Promise<void> {
  const db = await openDb();
  try {
    await request(db.transaction(store, 'readwrite').objectStore(store).put(value, key));
  } finally {
    db.close();
  }
}
