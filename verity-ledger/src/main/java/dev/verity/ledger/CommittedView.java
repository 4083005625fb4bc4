package dev.verity.ledger;

import dev.verity.core.Cid;
import dev.verity.core.Hash;
import dev.verity.core.crypto.Address;
import java.util.Objects;
import java.util.Optional;

/** A {@link LedgerView} over the embedded state tree. */
record CommittedView(BlockHeader header, LedgerState state) implements LedgerView {
  CommittedView {
    Objects.requireNonNull(header);
    Objects.requireNonNull(state);
    if (header.height() != state.height() || !header.stateRoot().equals(state.root())) {
      throw new IllegalArgumentException("state does not belong to header " + header.height());
    }
  }

  @Override
  public StateRecord.Account account(Address a) {
    return state.account(a);
  }

  @Override
  public StateRecord.Stake stake(Address a) {
    return state.stake(a);
  }

  @Override
  public StateRecord.Exposure exposure(Address a) {
    return state.exposure(a);
  }

  @Override
  public Optional<StateRecord.Node> node(Address operator) {
    return state.node(operator);
  }

  @Override
  public Optional<StateRecord.Model> model(Cid manifest) {
    return state.model(manifest);
  }

  @Override
  public Optional<StateRecord.Job> job(Hash id) {
    return state.job(id);
  }

  @Override
  public Optional<StateRecord.Receipt> receipt(Cid receipt) {
    return state.receipt(receipt);
  }

  @Override
  public Optional<StateRecord.Challenge> challenge(Hash id) {
    return state.challenge(id);
  }

  @Override
  public Optional<StateRecord.Dispute> dispute(Hash id) {
    return state.dispute(id);
  }

  @Override
  public Optional<StateRecord.Check> check(Hash job) {
    return state.check(job);
  }

  @Override
  public StateRecord.Supply supply() {
    return state.supply();
  }

  @Override
  public StateProof prove(StateKey key) {
    return state.prove(key);
  }
}
