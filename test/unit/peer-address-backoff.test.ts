import { AddressBackoff, addressKey, FAILED_ADDRESS_BACKOFF_MS } from '../../src/peer/address-backoff';

// docs/protocol-mesh.md, "Dialling gossiped members": one dial per address at a time, none soon after a failure.
describe('AddressBackoff', () => {
  const key = addressKey({ host: '10.0.0.9', port: 80 });

  it('marks an address busy while it is dialled and free again after a success', () => {
    const backoff = new AddressBackoff();
    expect(backoff.state(key, 0)).toBe('free');
    backoff.begin(key);
    expect(backoff.state(key, 0)).toBe('busy');
    backoff.end(key, true, 5);
    expect(backoff.state(key, 5)).toBe('free');
  });

  it(`leaves a failed address alone for ${FAILED_ADDRESS_BACKOFF_MS} ms`, () => {
    const backoff = new AddressBackoff();
    backoff.begin(key);
    backoff.end(key, false, 1_000);
    expect(backoff.state(key, 1_000 + FAILED_ADDRESS_BACKOFF_MS - 1)).toBe('failed');
    expect(backoff.state(key, 1_000 + FAILED_ADDRESS_BACKOFF_MS)).toBe('free');
    expect(backoff.size).toBe(0);
  });

  it('remembers at most its capacity of failed addresses, forgetting the oldest', () => {
    const backoff = new AddressBackoff(1_000, 2);
    for (const port of [1, 2, 3]) backoff.end(addressKey({ host: 'h', port }), false, 0);
    expect(backoff.size).toBe(2);
    expect(backoff.state('h:1', 1)).toBe('free');
    expect(backoff.state('h:3', 1)).toBe('failed');
  });
});
