import { z } from 'zod';
import { NAME_PATTERN } from './names';

/**
 * The wire primitives shared by the frame unions (frames.ts) and the
 * end-to-end envelope (dm-envelope.ts), in a module of their own so the two
 * can import them without a cycle.
 */

export const Name = z.string().regex(NAME_PATTERN);
/** Ed25519 public key, raw 32 bytes in base64. */
export const PublicKey = z.string().regex(/^[A-Za-z0-9+/]{43}=$/);
export const Signature = z.string().regex(/^[A-Za-z0-9+/]{86}==$/);
/** Milliseconds since the epoch. */
export const Millis = z.int().min(0).max(8.64e15);
