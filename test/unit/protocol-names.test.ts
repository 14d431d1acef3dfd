import fc from 'fast-check';
import { isValidHost, isValidName, parsePort } from '../../src/protocol/names';
import { isIP } from 'node:net';

describe('names and ports (docs/usage.md "Command-line mistakes")', () => {
  it('parsePort accepts exactly the decimal strings 0–65535 (leading zeros allowed) and nothing else', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 8 }),
          fc.integer({ min: -10, max: 70000 }).map(String),
          fc.stringMatching(/^[0-9]{1,7}$/),
        ),
        (value) => {
          const expected = /^[0-9]+$/.test(value) && value.length <= 5 && Number(value) <= 65535 ? Number(value) : null;
          expect(parsePort(value)).toBe(expected);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('isValidName accepts exactly 1–32 characters of A-Z a-z 0-9 _ . -', () => {
    const allowed = new Set('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-');
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 40 }),
          fc.string({ unit: 'binary', maxLength: 34 }),
          fc.stringMatching(/^[A-Za-z0-9_.;-]{0,34}$/),
        ),
        (value) => {
          const expected = value.length >= 1 && value.length <= 32 && [...value].every((c) => allowed.has(c));
          expect(isValidName(value)).toBe(expected);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('isValidHost accepts every IPv4 literal and rejects dotted numbers that are not one', () => {
    fc.assert(
      fc.property(fc.ipV4(), (ip) => expect(isValidHost(ip)).toBe(true)),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 99999 }), { minLength: 1, maxLength: 6 }), (parts) => {
        const value = parts.join('.');
        expect(isValidHost(value)).toBe(isIP(value) === 4);
      }),
      { numRuns: 500 },
    );
  });

  it('isValidHost accepts IPv6 literals, bare or bracketed, and domain names', () => {
    fc.assert(
      fc.property(fc.ipV6(), (ip) => {
        expect(isValidHost(ip)).toBe(true);
        expect(isValidHost(`[${ip}]`)).toBe(true);
      }),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(fc.domain(), (domain) => expect(isValidHost(domain)).toBe(true)),
      { numRuns: 200 },
    );
  });

  it('isValidHost never throws and rejects anything with characters no hostname can hold', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (value) => {
        const result = isValidHost(value);
        if (/[^A-Za-z0-9.:\-[\]%_]/.test(value) && isIP(value) === 0) expect(result).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });
});
