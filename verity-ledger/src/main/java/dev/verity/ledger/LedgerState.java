package dev.verity.ledger;

import dev.verity.core.Cid;
import dev.verity.core.Hash;
import dev.verity.core.crypto.Address;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The ledger state after some block: every account, stake, node, model, job, receipt, challenge,
 * the supply counters and the genesis configuration, committed to by {@link #root()}. Immutable and
 * thread-safe; a state and all states derived from it share structure.
 *
 * <p>The state machine is {@link #begin(long)}: it returns a {@link BlockExecution} that applies
 * transactions one by one, each all-or-nothing, and {@link BlockExecution#finish()} yields the next
 * state. It reads no clock, no randomness and does no I/O: the same genesis and the same ordered
 * transactions give the same states and roots on every machine.
 */
public final class LedgerState {
  private final StateTree tree;
  private final long height;
  private final GenesisConfig config;

  LedgerState(StateTree tree, long height, GenesisConfig config) {
    this.tree = tree;
    this.height = height;
    this.config = config;
  }

  /** The state at height 0: the configuration, the supply and the genesis allocations. */
  public static LedgerState genesis(GenesisConfig config) {
    Map<StateKey, StateRecord> entries = new HashMap<>();
    entries.put(StateKey.CONFIG, config);
    entries.put(StateKey.SUPPLY, new StateRecord.Supply(config.initialSupply(), 0));
    config.allocations()
        .forEach((to, amount) -> entries.put(StateKey.account(to), new StateRecord.Account(amount, 0)));
    return new LedgerState(StateTree.empty().with(entries), 0, config);
  }

  /** Rebuilds a state from its entries (from a snapshot), in ascending path order. */
  static LedgerState fromEntries(java.util.List<StateTree.Leaf> sorted, long height) {
    StateTree tree = StateTree.ofSorted(sorted);
    if (!(tree.get(StateKey.CONFIG.path().toBytes()) instanceof GenesisConfig config)) {
      throw new dev.verity.core.DecodingException("state has no genesis configuration entry");
    }
    return new LedgerState(tree, height, config);
  }

  /** The height of the block that produced this state (0 for genesis). */
  public long height() {
    return height;
  }

  /** The state root: the hash of the state tree. */
  public Hash root() {
    return tree.rootHash();
  }

  public GenesisConfig config() {
    return config;
  }

  /** Number of entries. */
  public int size() {
    return tree.size();
  }

  public Optional<StateRecord> get(StateKey key) {
    return Optional.ofNullable(tree.get(key.path().toBytes()));
  }

  StateRecord getOrNull(StateKey key) {
    return tree.get(key.path().toBytes());
  }

  /** The account (an empty one if it never received anything). */
  public StateRecord.Account account(Address a) {
    return get(StateKey.account(a)).map(StateRecord.Account.class::cast).orElse(StateRecord.Account.EMPTY);
  }

  public StateRecord.Stake stake(Address a) {
    return get(StateKey.stake(a)).map(StateRecord.Stake.class::cast).orElse(StateRecord.Stake.EMPTY);
  }

  public Optional<StateRecord.Node> node(Address operator) {
    return get(StateKey.node(operator)).map(StateRecord.Node.class::cast);
  }

  public Optional<StateRecord.Model> model(Cid manifest) {
    return get(StateKey.model(manifest)).map(StateRecord.Model.class::cast);
  }

  public Optional<StateRecord.Job> job(Hash id) {
    return get(StateKey.job(id)).map(StateRecord.Job.class::cast);
  }

  public Optional<StateRecord.Receipt> receipt(Cid receipt) {
    return get(StateKey.receipt(receipt)).map(StateRecord.Receipt.class::cast);
  }

  public Optional<StateRecord.Challenge> challenge(Hash id) {
    return get(StateKey.challenge(id)).map(StateRecord.Challenge.class::cast);
  }

  /** A dispute over an optimistic job, by id ({@link Action.Challenge#disputeId}). */
  public Optional<StateRecord.Dispute> dispute(Hash id) {
    return get(StateKey.dispute(id)).map(StateRecord.Dispute.class::cast);
  }

  /** The trace commitment, sample and attestations of an optimistic job. */
  public Optional<StateRecord.Check> check(Hash job) {
    return get(StateKey.check(job)).map(StateRecord.Check.class::cast);
  }

  /**
   * Whether the optimistic job {@code job} was drawn for re-execution and by which verifiers.
   * Empty if the job has no trace commitment or its seed is not known yet: the seed is the hash of
   * the header of the block after the one holding the commitment, recorded by the block after that.
   * A pure function of the state: {@code sampled} iff {@code u64(H("verity/sample/v1", seed ||
   * job)) mod 10^6 < max(genesis samplingPpm, job samplingPpm)}; the verifiers are {@code
   * verifiersPerSample} nodes with the verifier role and at least the minimum node stake, other
   * than the worker, drawn stake-weighted without replacement by {@code u64(H("verity/sample/v1/
   * verifier", seed || job || u32 k)) mod remaining weight} (candidates in address order).
   */
  public Optional<Sample> sample(Hash job) {
    return check(job).flatMap(StateRecord.Check::sample);
  }

  /**
   * What the stake of {@code a} still backs: its optimistic jobs not yet final or invalid, the open
   * disputes and contests against it and the charges in flight. {@link Action.Withdraw} is refused
   * while it is {@link StateRecord.Exposure#locked() locked}.
   */
  public StateRecord.Exposure exposure(Address a) {
    return get(StateKey.exposure(a)).map(StateRecord.Exposure.class::cast).orElse(StateRecord.Exposure.NONE);
  }

  public StateRecord.Supply supply() {
    return (StateRecord.Supply) get(StateKey.SUPPLY).orElseThrow();
  }

  /** A membership or non-membership proof for {@code key} against {@link #root()}. */
  public StateProof prove(StateKey key) {
    return tree.prove(key);
  }

  /** Visits every entry in ascending path order. */
  public void forEach(Consumer<StateRecord> visitor) {
    tree.forEach(leaf -> visitor.accept(leaf.record));
  }

  void forEachLeaf(Consumer<StateTree.Leaf> visitor) {
    tree.forEach(visitor);
  }

  /**
   * Starts executing block {@code height}, which must be {@code height() + 1}. This state is not
   * changed; the execution builds the next one.
   */
  public BlockExecution begin(long height) {
    return begin(height, BlockHeader.ZERO, 0, DisputeReferee.NONE);
  }

  /**
   * Starts executing block {@code height} on top of the block whose header hash is {@code
   * previousHeader}, at block time {@code timeMillis} (the time the block's header will carry), with
   * {@code referee} ruling on dispute proofs. The state machine is deterministic in these and the
   * transactions: the previous header's hash seeds the sampling of jobs committed two blocks
   * earlier, the time decides dispute deadlines, the referee is a pure function of
   * content-addressed data ({@link DisputeReferee}).
   */
  public BlockExecution begin(long height, Hash previousHeader, long timeMillis, DisputeReferee referee) {
    if (height != this.height + 1) {
      throw new IllegalArgumentException(
          "block " + height + " cannot follow the state after block " + this.height);
    }
    return new BlockExecution(this, height, previousHeader, timeMillis, referee);
  }

  /** Whether some optimistic job still waits for its sampling seed (later blocks are needed). */
  public boolean samplingPending() {
    return get(StateKey.SAMPLING).map(r -> !((StateRecord.Sampling) r).pending().isEmpty()).orElse(false);
  }

  /**
   * Whether a height-counted deadline is still ahead: an optimistic job waits for its sampling
   * seed, or the chain is below the {@link StateRecord.Horizon} (an open challenge window or reveal
   * period, unbonding stake not yet released). Heights advance only with blocks, so while this
   * holds the sequencer seals empty blocks when idle.
   */
  public boolean deadlinesPending() {
    if (samplingPending()) {
      return true;
    }
    return get(StateKey.HORIZON).map(r -> height < ((StateRecord.Horizon) r).height()).orElse(false);
  }

  StateTree tree() {
    return tree;
  }

  LedgerState next(StateTree newTree, long newHeight) {
    return new LedgerState(newTree, newHeight, config);
  }

  /**
   * Sum of all balances, stakes, escrows of open jobs, bonds of open contests and disputes, and
   * check pools.
   */
  public long heldTotal() {
    long[] total = {0};
    forEach(r -> {
      long v = switch (r) {
        case StateRecord.Account a -> a.balance();
        case StateRecord.Stake s -> Math.addExact(s.bonded(), s.unbonding());
        case StateRecord.Job j -> j.status() == StateRecord.Job.Status.OPEN ? j.escrow() : 0;
        case StateRecord.Challenge c -> c.status() == StateRecord.Challenge.Status.OPEN ? c.bond() : 0;
        case StateRecord.Check c -> c.checkPool();
        case StateRecord.Dispute d -> d.phase().decided() ? 0 : d.bond();
        default -> 0;
      };
      total[0] = Math.addExact(total[0], v);
    });
    return total[0];
  }
}
