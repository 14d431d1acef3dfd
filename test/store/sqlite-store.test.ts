import path from 'node:path';
import type { ChatStore } from '../../src/store/chat-store';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store';
import { describeStoreContract } from './store-contract';
import { removeTempDirs, tempDir } from '../helpers/temp-dir';

const dirs = new WeakMap<ChatStore, string>();

function open(dir: string): ChatStore {
  const store = openSqliteStore({ dir, historyLimit: 1000 });
  dirs.set(store, dir);
  return store;
}

afterAll(() => removeTempDirs());

describeStoreContract('SqliteStore (the default)', {
  open: async () => open(path.join(tempDir(), 'data')),
  reopen: async (store) => {
    const dir = dirs.get(store)!;
    await store.close();
    return open(dir);
  },
});
