import { AddressLimits, isLoopback } from '../../src/server/address-limits';
import { effectiveMaxClients, openFileLimit, RESERVED_DESCRIPTORS } from '../../src/net/fd-limit';
import { FakeClock } from '../helpers/fake-clock';

describe('AddressLimits', () => {
  const options = { maxConnections: 2, registrationsPerSec: 1, exemptLoopback: true };

  it('admits up to maxConnections per address, and one more once one closes', () => {
    const limits = new AddressLimits(options, new FakeClock());
    expect([limits.open('10.0.0.1'), limits.open('10.0.0.1'), limits.open('10.0.0.1')]).toEqual([true, true, false]);
    expect(limits.open('10.0.0.2')).toBe(true);
    limits.close('10.0.0.1');
    expect(limits.open('10.0.0.1')).toBe(true);
  });

  it('bounds registrations per address: a burst of 5 s worth, then the sustained rate', () => {
    const clock = new FakeClock();
    const limits = new AddressLimits(options, clock);
    limits.open('10.0.0.1');
    const burst = Array.from({ length: 6 }, () => limits.register('10.0.0.1'));
    expect(burst).toEqual([true, true, true, true, true, false]);
    clock.advance(1000);
    expect(limits.register('10.0.0.1')).toBe(true);
  });

  it('remembers an address for 5 s after its last connection closed: reconnecting gets no fresh burst', () => {
    const clock = new FakeClock();
    const limits = new AddressLimits(options, clock);
    limits.open('10.0.0.1');
    for (let i = 0; i < 5; i++) expect(limits.register('10.0.0.1')).toBe(true);
    limits.close('10.0.0.1');
    limits.open('10.0.0.1');
    expect(limits.register('10.0.0.1')).toBe(false);
    limits.close('10.0.0.1');
    clock.advance(5000);
    limits.open('10.0.0.2'); // any later visit forgets what has rested long enough
    limits.open('10.0.0.1');
    expect(Array.from({ length: 6 }, () => limits.register('10.0.0.1'))).toEqual([true, true, true, true, true, false]);
  });

  it('exempts loopback unless told not to, and in-memory streams always', () => {
    const exempt = new AddressLimits(options, new FakeClock());
    for (let i = 0; i < 10; i++) expect(exempt.open('127.0.0.1')).toBe(true);
    const strict = new AddressLimits({ ...options, exemptLoopback: false }, new FakeClock());
    expect([strict.open('::1'), strict.open('::1'), strict.open('::1')]).toEqual([true, true, false]);
    expect(strict.open(undefined)).toBe(true);
    expect(['127.0.0.1', '127.9.9.9', '::1', '::ffff:127.0.0.1', '10.0.0.1', '::2'].map(isLoopback)).toEqual([
      true,
      true,
      true,
      true,
      false,
      false,
    ]);
  });
});

describe('connection limit from the open-file limit', () => {
  it('reads the soft limit of open files from /proc/self/limits text', () => {
    const text =
      'Limit                     Soft Limit           Hard Limit           Units\nMax open files            256                  4096                 files\n';
    expect(openFileLimit(() => text)).toBe(256);
    expect(
      openFileLimit(() => 'Max open files            unlimited            unlimited            files\n'),
    ).toBeNull();
    expect(
      openFileLimit(() => {
        throw new Error('no /proc');
      }),
    ).toBeNull();
  });

  it('keeps headroom below the descriptor limit so shedding engages before accept fails', () => {
    expect(effectiveMaxClients(20_000, 256)).toBe(256 - RESERVED_DESCRIPTORS);
    expect(effectiveMaxClients(100, 20_000)).toBe(100);
    expect(effectiveMaxClients(20_000, null)).toBe(20_000);
  });
});
