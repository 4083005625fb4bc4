package dev.verity.ledger;

import dev.verity.core.Cid;
import dev.verity.core.Hash;
import dev.verity.core.crypto.Address;
import java.util.Objects;
import java.util.Optional;

/**
 * One committed block's header and the state after it: a consistent, immutable snapshot to read
 * from and prove against. Every proof verifies against {@code header().stateRoot()}.
 */
public record LedgerView(BlockHeader header, LedgerState state) {
  public LedgerView {
    Objects.requireNonNull(header);
    Objects.requireNonNull(state);
    if (header.height() != state.height() || !header.stateRoot().equals(state.root())) {
      throw new IllegalArgumentException("state does not belong to header " + header.height());
    }
  }

  public long height() {
    return header.height();
  }

  public StateRecord.Account account(Address a) {
    return state.account(a);
  }

  public StateRecord.Stake stake(Address a) {
    return state.stake(a);
  }

  public Optional<StateRecord.Node> node(Address operator) {
    return state.node(operator);
  }

  public Optional<StateRecord.Model> model(Cid manifest) {
    return state.model(manifest);
  }

  public Optional<StateRecord.Job> job(Hash id) {
    return state.job(id);
  }

  public Optional<StateRecord.Receipt> receipt(Cid receipt) {
    return state.receipt(receipt);
  }

  public Optional<StateRecord.Challenge> challenge(Hash id) {
    return state.challenge(id);
  }

  /** Proof of {@code key}'s entry (or its absence) against this view's header. */
  public StateProof prove(StateKey key) {
    return state.prove(key);
  }
}
