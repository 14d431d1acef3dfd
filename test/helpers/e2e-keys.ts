import type { Identity } from '../../src/client/identity';
import type { DirectFrame, FrameOf } from '../../src/protocol/frames';

/** A `dm` frame as a test builds it. */
export type DmFrame = FrameOf<DirectFrame, 'dm'>;

/** The fields a test writes a private message with, before it is sealed. */
export interface PlainDm {
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly ts: number;
  readonly text: string;
}

/** `register.ekey`/`ekeySig` (and a table entry's) for `identity` registered as `name`. */
export function published(identity: Identity, name: string): { ekey: string; ekeySig: string } {
  return { ekey: identity.encryptionKey, ekeySig: identity.signEncryptionKey(name) };
}

/** A `dm` frame: `fields` sealed for `ekey` (the receiver's X25519 key) and signed by `signer`, claiming `fields.from`. */
export function sealedDm(signer: Identity, ekey: string, fields: PlainDm): DmFrame {
  const { id, to, ts, text } = fields;
  return { type: 'dm', message: signer.seal(fields.from, { id, to, ts }, ekey, text) };
}
