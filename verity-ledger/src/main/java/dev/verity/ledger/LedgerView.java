package dev.verity.ledger;

import dev.verity.core.Cid;
import dev.verity.core.Hash;
import dev.verity.core.crypto.Address;
import java.util.Optional;

/**
 * One committed block's header and the state after it: a consistent, immutable snapshot to read
 * from and prove against. Every proof verifies against {@code header().stateRoot()}.
 */
public interface LedgerView {
  BlockHeader header();

  default long height() {
    return header().height();
  }

  /** The account (an empty one if it never received anything). */
  StateRecord.Account account(Address a);

  /** The stake (nothing staked if none). */
  StateRecord.Stake stake(Address a);

  Optional<StateRecord.Node> node(Address operator);

  Optional<StateRecord.Model> model(Cid manifest);

  Optional<StateRecord.Job> job(Hash id);

  Optional<StateRecord.Receipt> receipt(Cid receipt);

  Optional<StateRecord.Challenge> challenge(Hash id);

  /** A dispute over an optimistic job ({@link Action.Challenge#disputeId}). */
  Optional<StateRecord.Dispute> dispute(Hash id);

  /** The trace commitment, sample and attestations of an optimistic job. */
  Optional<StateRecord.Check> check(Hash job);

  /** Whether an optimistic job was drawn for re-execution and by whom ({@link LedgerState#sample}). */
  default Optional<Sample> sample(Hash job) {
    return check(job).flatMap(StateRecord.Check::sample);
  }

  /**
   * What the stake of {@code a} still backs ({@link LedgerState#exposure}); a {@link
   * Action.Withdraw} is refused while it is {@link StateRecord.Exposure#locked() locked}.
   */
  default StateRecord.Exposure exposure(Address a) {
    return prove(StateKey.exposure(a)).valueAs(StateRecord.Exposure.class).orElse(StateRecord.Exposure.NONE);
  }

  /** Money minted and burned since genesis. */
  StateRecord.Supply supply();

  /** Proof of {@code key}'s entry (or its absence) against this view's header. */
  StateProof prove(StateKey key);

  /**
   * The view of {@code state} under {@code header}, for a node that re-executed the chain itself
   * (a follower of the sequencer, after {@link Chain#applyBlock}).
   *
   * @throws IllegalArgumentException if {@code state} is not the state {@code header} commits to
   */
  static LedgerView of(BlockHeader header, LedgerState state) {
    return new CommittedView(header, state);
  }
}
