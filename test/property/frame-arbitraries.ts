import fc from 'fast-check';
import type { ClientToServerFrame, DirectFrame, ServerToClientFrame } from '../../src/protocol/frames';
import { ERROR_CODE_LIST } from '../../src/protocol/errors';
import { isValidHost } from '../../src/protocol/names';

/** Arbitraries producing only schema-valid frames (no undefined fields, so they survive JSON). */

export const nameArb = fc.stringMatching(/^[A-Za-z0-9_.-]{1,32}$/);
export const idArb = fc.string({ minLength: 1, maxLength: 64 });
const loneSurrogate = fc.constantFrom('\ud800', '\udbff', '\udc00', '\udfff');
/** Any text: full Unicode, control characters, newlines, and lone surrogates. */
export const textArb = fc.string({
  unit: fc.oneof(fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), loneSurrogate),
  maxLength: 40,
});
const portArb = fc.integer({ min: 0, max: 65535 });
const seqArb = fc.nat();
const keyArb = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('base64'));
const sigArb = fc.uint8Array({ minLength: 64, maxLength: 64 }).map((b) => Buffer.from(b).toString('base64'));
const hostArb = fc.string({ minLength: 1, maxLength: 40 });
const bytesArb = (min: number, max: number): fc.Arbitrary<string> =>
  fc.uint8Array({ minLength: min, maxLength: max }).map((b) => Buffer.from(b).toString('base64'));
/** A sealed private message (dm-envelope.ts): opaque to everything but its receiver. */
const envelopeArb = fc.record({
  id: idArb,
  from: nameArb,
  to: nameArb,
  ts: fc.nat(),
  epk: keyArb,
  iv: bytesArb(12, 12),
  ct: bytesArb(16, 80),
  sig: sigArb,
});
/** A host a client may claim in `register`: an IP literal or a hostname (docs/protocol.md). */
const claimedHostArb = fc.oneof(fc.domain(), fc.ipV4(), fc.ipV6()).filter(isValidHost);

export const clientFrameArb: fc.Arbitrary<ClientToServerFrame> = fc.oneof(
  fc.record(
    {
      type: fc.constant('register' as const),
      id: idArb,
      v: fc.integer({ min: 0, max: 5 }),
      name: nameArb,
      port: portArb,
      host: claimedHostArb,
      key: keyArb,
      sig: sigArb,
      ekey: keyArb,
      ekeySig: sigArb,
    },
    { requiredKeys: ['type', 'id', 'v', 'name', 'port', 'key', 'sig'] },
  ),
  fc.record({ type: fc.constant('dereg' as const), id: idArb, name: nameArb }),
  fc.record({ type: fc.constant('create_group' as const), id: idArb, group: nameArb }),
  fc.record({ type: fc.constant('list_groups' as const), id: idArb }),
  fc.record({ type: fc.constant('join_group' as const), id: idArb, group: nameArb }),
  fc.record({ type: fc.constant('leave_group' as const), id: idArb }),
  fc.record({ type: fc.constant('list_members' as const), id: idArb }),
  fc.record({ type: fc.constant('send_group' as const), id: idArb, text: textArb }),
  fc.record({ type: fc.constant('group_ack' as const), group: nameArb, seq: seqArb }),
  fc.record({ type: fc.constant('history' as const), id: idArb, n: fc.integer({ min: 1, max: 100 }) }),
  fc.record({ type: fc.constant('delete_group' as const), id: idArb, group: nameArb }),
  fc.record({ type: fc.constant('delete_account' as const), id: idArb, name: nameArb }),
  fc.record({ type: fc.constant('lookup' as const), id: idArb, name: nameArb }),
  fc.record({ type: fc.constant('saved_ack' as const), id: idArb }),
  fc.record({
    type: fc.constant('save_message' as const),
    id: idArb,
    message: envelopeArb,
  }),
  fc.record({
    type: fc.constant('relay_dm' as const),
    id: idArb,
    to: nameArb,
    body: fc.oneof(fc.record({ enc: envelopeArb }), fc.record({ text: textArb })),
  }),
  fc.constant({ type: 'ping' as const }),
  fc.constant({ type: 'pong' as const }),
);

export const entryArb = fc.record(
  { name: nameArb, host: hostArb, port: portArb, online: fc.boolean(), key: keyArb, ekey: keyArb, ekeySig: sigArb },
  { requiredKeys: ['name', 'host', 'port', 'online', 'key'] },
);

export const serverFrameArb: fc.Arbitrary<ServerToClientFrame> = fc.oneof(
  fc.record(
    {
      type: fc.constant('reply' as const),
      id: idArb,
      groups: fc.array(nameArb, { maxLength: 4 }),
      members: fc.array(nameArb, { maxLength: 4 }),
      group: nameArb,
    },
    { requiredKeys: ['type', 'id'] },
  ),
  fc.record(
    {
      type: fc.constant('error' as const),
      id: idArb,
      code: fc.constantFrom(...ERROR_CODE_LIST),
      message: fc.string({ maxLength: 80 }),
    },
    { requiredKeys: ['type', 'code', 'message'] },
  ),
  fc.record(
    {
      type: fc.constant('table' as const),
      rev: seqArb,
      full: fc.boolean(),
      more: fc.constant(true as const),
      clients: fc.array(entryArb, { maxLength: 4 }),
    },
    { requiredKeys: ['type', 'rev', 'full', 'clients'] },
  ),
  fc.record({ type: fc.constant('list_part' as const), id: idArb, items: fc.array(nameArb, { maxLength: 4 }) }),
  fc.record({ type: fc.constant('group_msg' as const), group: nameArb, seq: seqArb, from: nameArb, text: textArb }),
  fc.record({ type: fc.constant('removed' as const), group: nameArb }),
  fc.record({ type: fc.constant('hello' as const), v: fc.nat(), challenge: keyArb }),
  fc.record({ type: fc.constant('receipt' as const), name: nameArb }),
  fc.record({ type: fc.constant('group_deleted' as const), group: nameArb }),
  fc.record({
    type: fc.constant('saved' as const),
    key: keyArb,
    message: envelopeArb,
  }),
  fc.constant({ type: 'ping' as const }),
);

export const directFrameArb: fc.Arbitrary<DirectFrame> = fc.oneof(
  fc.record({ type: fc.constant('dm' as const), message: envelopeArb }),
  fc.record({ type: fc.constant('dm_ack' as const), id: idArb, sig: sigArb }),
  fc.constant({ type: 'pong' as const }),
);

/** Splits `bytes` at sorted, distinct cut points drawn from `cuts` (values in [0,1)). */
export function splitAt(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => Math.floor(c * bytes.length)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let last = 0;
  for (const p of points) {
    chunks.push(bytes.subarray(last, p));
    last = p;
  }
  chunks.push(bytes.subarray(last));
  return chunks;
}

export const cutsArb = fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { maxLength: 30 });
