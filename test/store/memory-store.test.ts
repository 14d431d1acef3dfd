import { MemoryStore } from '../../src/store/memory-store';
import { describeStoreContract } from './store-contract';

describeStoreContract('MemoryStore (--ephemeral)', { open: async () => new MemoryStore() });
