import { assertNever } from '../protocol/frames';
import type { MeshLink } from './mesh-link';
import type { AdmitResult, MemberInfo } from './member-table';

/** What applying a verdict may need from the peer. */
export interface VerdictEffects {
  /** Sends the acceptor's `welcome` (a no-op for a link we dialled). */
  welcome(): void;
  /** The member is linked: stop re-dialling it, gossip the new list. */
  linked(instance: string): void;
  /** `[<name> has joined the chat]`, subject to the peer's own rules. */
  announce(name: string, instance: string): void;
  /** An earlier process took our name while we were joining. */
  loseName(): void;
}

/** The greeted link, the member it leads to, and that member's state before and after. */
export interface Admission {
  readonly link: MeshLink;
  readonly info: MemberInfo;
  /** The member said it is still joining (its `joined` announces it later). */
  readonly joining: boolean;
  /** The name was held by a member still joining before this link (same instance on a tie). */
  readonly wasJoining: boolean;
  /** The name's holder is established now (after the verdict). */
  readonly establishedNow: boolean;
}

function refuse(link: MeshLink, name: string, state: 'evicted'): void {
  link.conn.sendError('name_in_use', `Name ${name} is already in use`);
  link.retire(state);
}

/**
 * Carries out the member table's verdict on a greeted link (docs/usage.md "Peer mode": one link
 * per pair, one process per name). The welcome, if any, leaves before a losing
 * link is closed. Returns true when the member set changed (gossip it).
 */
export function applyVerdict(verdict: AdmitResult<MeshLink>, a: Admission, effects: VerdictEffects): boolean {
  const { link, info } = a;
  switch (verdict.kind) {
    case 'self':
      link.retire('gone');
      return false;
    case 'full':
      // docs/protocol-mesh.md, "Limits": a peer links at most maxMembers members
      link.conn.sendError('server_full', 'This peer is linked to as many members as it allows');
      link.retire('gone');
      return false;
    case 'refused':
      refuse(link, info.name, 'evicted');
      return false;
    case 'self_loses':
      link.retire('gone');
      effects.loseName();
      return false;
    case 'tie':
      effects.welcome();
      link.state = 'active';
      if (verdict.close) verdict.drop.retire('superseded');
      else verdict.drop.state = 'superseded'; // the other end closes it (see AdmitResult)
      // Its `joined` may have been on the dropped link: the new greeting says it is established.
      if (a.wasJoining && a.establishedNow) effects.announce(info.name, info.instance);
      return false;
    case 'replaced':
    case 'added':
      effects.linked(info.instance);
      effects.welcome();
      link.state = 'active';
      if (verdict.kind === 'replaced') refuse(verdict.drop, info.name, 'evicted');
      if (!a.joining) effects.announce(info.name, info.instance);
      return true;
    default:
      return assertNever(verdict);
  }
}
