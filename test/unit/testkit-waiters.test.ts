import { Waiters } from '../../testkit/waiters';
import { eventually } from '../helpers/eventually';

describe('testkit Waiters', () => {
  it('settles a wait at the notify after which its probe holds, and at once if it already holds', async () => {
    let value = 0;
    const waiters = new Waiters(() => `value ${value}`);
    expect(await waiters.wait({ what: 'zero', probe: () => (value === 0 ? { value: 'now' } : null) })).toBe('now');
    const three = waiters.wait({ what: 'three', probe: () => (value === 3 ? { value } : null) });
    for (value = 1; value <= 3; value++) waiters.notify();
    await expect(three).resolves.toBe(3);
    expect(waiters.size).toBe(0);
  });

  it('rejects as soon as the owner says the wait is hopeless, with its description', async () => {
    let closed = false;
    const waiters = new Waiters(() => 'recent: nothing');
    const wait = waiters.wait({
      what: 'a frame',
      probe: () => null,
      hopeless: () => (closed ? 'connection closed' : null),
    });
    closed = true;
    waiters.notify();
    await expect(wait).rejects.toThrow(/^connection closed before a frame\nrecent: nothing/);
    expect(waiters.size).toBe(0);
  });

  it('rejects after its safety net when nothing ever satisfies it, and forgets the wait', async () => {
    const waiters = new Waiters(() => 'recent: nothing');
    await expect(waiters.wait({ what: 'a line', probe: () => null, timeoutMs: 10 })).rejects.toThrow(
      /timed out after 10 ms waiting for a line/,
    );
    expect(waiters.size).toBe(0);
  });
});

describe('eventually', () => {
  it('re-runs a sync or async probe until it yields a value', async () => {
    let tries = 0;
    expect(await eventually(async () => (++tries >= 3 ? 'ready' : null), 'ready', { everyMs: 1 })).toBe('ready');
    expect(tries).toBe(3);
  });

  it('fails with what it waited for once the safety net passes', async () => {
    await expect(eventually(() => false, 'a refilled bucket', { timeoutMs: 10, everyMs: 1 })).rejects.toThrow(
      /a refilled bucket: still not the case after 10 ms/,
    );
  });
});
