import { CLAIM_CREDIT, VouchLedger } from '../../src/peer/vouch-ledger';

// docs/protocol-mesh.md, "Dialling gossiped members": a member's word is good for CLAIM_CREDIT unconfirmed dials.
describe('VouchLedger', () => {
  it(`lets one voucher pay for at most ${CLAIM_CREDIT} dials in flight`, () => {
    const ledger = new VouchLedger();
    ledger.open('eve');
    for (let i = 0; i < CLAIM_CREDIT; i++) {
      expect(ledger.payer(['eve'])).toBe('eve');
      ledger.charge('eve');
    }
    expect(ledger.payer(['eve'])).toBeNull();
    expect(ledger.mayPayLater(['eve'])).toBe(true);
  });

  it('a claim that held gives its credit back; a false one keeps it as a strike, and a liar is no longer heard', () => {
    const ledger = new VouchLedger(2);
    ledger.open('eve');
    ledger.charge('eve');
    ledger.settle('eve', true);
    expect(ledger.payer(['eve'])).toBe('eve');
    for (let i = 0; i < 2; i++) {
      ledger.charge('eve');
      ledger.settle('eve', false);
    }
    expect(ledger.payer(['eve'])).toBeNull();
    expect(ledger.mayPayLater(['eve'])).toBe(false);
    expect(ledger.open('eve')).toBe(false);
  });

  it('a true claim forgives one earlier strike', () => {
    const ledger = new VouchLedger(2);
    ledger.open('ann');
    ledger.charge('ann');
    ledger.charge('ann');
    ledger.settle('ann', false);
    ledger.settle('ann', true);
    expect(ledger.open('ann')).toBe(true);
    ledger.charge('ann');
    ledger.charge('ann');
    expect(ledger.payer(['ann'])).toBeNull();
  });

  it('pays with the first voucher that has credit, and never with an unknown or forgotten one', () => {
    const ledger = new VouchLedger(1);
    ledger.open('eve');
    ledger.open('ann');
    ledger.charge('eve');
    expect(ledger.payer(['eve', 'ann'])).toBe('ann');
    ledger.forget('ann');
    expect(ledger.payer(['eve', 'ann', 'zed'])).toBeNull();
    ledger.settle('ann', false); // a dial paid by a forgotten voucher ends: nothing to do
    expect(ledger.size).toBe(1);
  });

  it('keeps at most its capacity of accounts, dropping an idle one first', () => {
    const ledger = new VouchLedger(CLAIM_CREDIT, 2);
    ledger.open('a');
    ledger.charge('a');
    ledger.open('b');
    ledger.open('c');
    expect(ledger.size).toBe(2);
    expect(ledger.mayPayLater(['a'])).toBe(true); // 'a' had a dial in flight: 'b' went instead
    expect(ledger.payer(['b'])).toBeNull();
  });
});
