package dev.verity.ledger;

import static dev.verity.ledger.TransactionRejected.Reason.ALREADY_EXISTS;
import static dev.verity.ledger.TransactionRejected.Reason.AMOUNT_OVERFLOW;
import static dev.verity.ledger.TransactionRejected.Reason.BAD_NONCE;
import static dev.verity.ledger.TransactionRejected.Reason.FAUCET_DISABLED;
import static dev.verity.ledger.TransactionRejected.Reason.FEE_TOO_LOW;
import static dev.verity.ledger.TransactionRejected.Reason.INSUFFICIENT_FUNDS;
import static dev.verity.ledger.TransactionRejected.Reason.INSUFFICIENT_STAKE;
import static dev.verity.ledger.TransactionRejected.Reason.INVALID_ARGUMENT;
import static dev.verity.ledger.TransactionRejected.Reason.NOTHING_TO_WITHDRAW;
import static dev.verity.ledger.TransactionRejected.Reason.NOT_AUTHORIZED;
import static dev.verity.ledger.TransactionRejected.Reason.NOT_FOUND;
import static dev.verity.ledger.TransactionRejected.Reason.STILL_UNBONDING;
import static dev.verity.ledger.TransactionRejected.Reason.WRONG_CHAIN;
import static dev.verity.ledger.TransactionRejected.Reason.WRONG_STATE;

import dev.verity.core.Cid;
import dev.verity.core.Hash;
import dev.verity.core.crypto.Address;
import dev.verity.ledger.StateRecord.Account;
import dev.verity.ledger.StateRecord.Job;
import dev.verity.ledger.StateRecord.Node;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The state machine, for one block: applies verified transactions in order to the state it began
 * from, then {@link #finish()} yields the next state. Not thread-safe; one thread drives it.
 *
 * <p><b>Deterministic.</b> The outcome depends only on the starting state, the block height and
 * the transactions, in order. No clock, randomness, I/O or iteration over unordered collections
 * influences it. Heights are the only notion of time (unbonding, job expiry, challenge windows).
 *
 * <p><b>Rejections.</b> {@link #apply} either applies a transaction entirely (fee charged, nonce
 * used, action done) or throws {@link TransactionRejected} and changes nothing. Every check the
 * rules make (chain id, nonce, fee, balances, stake, authorisation, job and challenge state,
 * arithmetic overflow) leads to a rejection with a reason and a message naming the values
 * involved. Amounts are {@code long}s in the smallest unit and every sum, difference and product
 * is checked; no balance or stake can become negative.
 *
 * <p><b>Fatal errors.</b> Anything else thrown (an {@link IllegalStateException} or other runtime
 * exception) means a broken invariant, a bug or a corrupt state: the caller must stop using this
 * execution and the state it began from.
 *
 * <p><b>Fees and money flow.</b> Every transaction pays its fee from the sender's balance to the
 * treasury. Money moves only between accounts, stakes, job escrows and challenge bonds, except: the
 * genesis allocations and the dev faucet mint, and a guilty verdict burns the part of the slashed
 * stake not paid to the client and challenger. {@link StateRecord.Supply} counts both, so {@code
 * minted - burned} always equals {@link LedgerState#heldTotal()}.
 */
public final class BlockExecution {
  private final LedgerState base;
  private final long height;
  private final GenesisConfig config;
  /** Writes of the transactions applied so far in this block. */
  private final Map<StateKey, StateRecord> block = new HashMap<>();
  /** Writes of the transaction being applied; merged into {@link #block} only on success. */
  private final Map<StateKey, StateRecord> pending = new HashMap<>();
  private final List<byte[]> pendingLeaves = new ArrayList<>();
  private final List<VerifiedTransaction> included = new ArrayList<>();
  private final List<byte[]> receiptLeaves = new ArrayList<>();
  private boolean finished;

  BlockExecution(LedgerState base, long height) {
    this.base = base;
    this.height = height;
    this.config = base.config();
  }

  public long height() {
    return height;
  }

  /**
   * Applies one transaction, all or nothing.
   *
   * @return where it landed and what it created
   * @throws TransactionRejected if the rules refuse it; nothing changed
   */
  public Committed apply(VerifiedTransaction vtx) throws TransactionRejected {
    if (finished) {
      throw new IllegalStateException("block " + height + " is already finished");
    }
    pending.clear();
    pendingLeaves.clear();
    try {
      Optional<Hash> created = execute(vtx);
      block.putAll(pending);
      receiptLeaves.addAll(pendingLeaves);
      included.add(vtx);
      return new Committed(height, included.size() - 1, vtx.id(), created);
    } catch (ArithmeticException e) {
      throw new TransactionRejected(
          AMOUNT_OVERFLOW, "transaction " + vtx.id() + " would overflow an amount: " + e.getMessage());
    } finally {
      pending.clear();
      pendingLeaves.clear();
    }
  }

  /** The transactions applied so far, in order. */
  public List<VerifiedTransaction> included() {
    return List.copyOf(included);
  }

  /** Leaves of the block's receipts root, in order (see {@link Action.CommitReceipts}). */
  public List<byte[]> receiptLeaves() {
    return List.copyOf(receiptLeaves);
  }

  /** Ends the block: the state after all applied transactions. Further calls to apply fail. */
  public LedgerState finish() {
    if (finished) {
      throw new IllegalStateException("block " + height + " is already finished");
    }
    finished = true;
    return base.next(base.tree().with(block), height);
  }

  // ---- reads and writes through the overlays ----

  private StateRecord read(StateKey key) {
    StateRecord r = pending.get(key);
    if (r == null) {
      r = block.get(key);
    }
    return r != null ? r : base.getOrNull(key);
  }

  private void write(StateKey key, StateRecord value) {
    pending.put(key, value);
  }

  private Account account(Address a) {
    StateRecord r = read(StateKey.account(a));
    return r == null ? Account.EMPTY : (Account) r;
  }

  private StateRecord.Stake stake(Address a) {
    StateRecord r = read(StateKey.stake(a));
    return r == null ? StateRecord.Stake.EMPTY : (StateRecord.Stake) r;
  }

  private Node node(Address a) {
    return (Node) read(StateKey.node(a));
  }

  private StateRecord.Model model(Cid c) {
    return (StateRecord.Model) read(StateKey.model(c));
  }

  private Job job(Hash id) throws TransactionRejected {
    Job j = (Job) read(StateKey.job(id));
    if (j == null) {
      throw new TransactionRejected(NOT_FOUND, "no job " + id);
    }
    return j;
  }

  private StateRecord.Supply supply() {
    return (StateRecord.Supply) read(StateKey.SUPPLY);
  }

  private void credit(Address to, long amount) {
    if (amount == 0) {
      return;
    }
    Account a = account(to);
    write(StateKey.account(to), new Account(Math.addExact(a.balance(), amount), a.nonce()));
  }

  private void debit(Address from, long amount, String what) throws TransactionRejected {
    Account a = account(from);
    if (a.balance() < amount) {
      throw new TransactionRejected(
          INSUFFICIENT_FUNDS,
          "balance " + a.balance() + " of " + from + " does not cover " + what + " of " + amount);
    }
    write(StateKey.account(from), new Account(a.balance() - amount, a.nonce()));
  }

  private static TransactionRejected reject(TransactionRejected.Reason reason, String message) {
    return new TransactionRejected(reason, message);
  }

  // ---- the rules ----

  private Optional<Hash> execute(VerifiedTransaction vtx) throws TransactionRejected {
    Transaction tx = vtx.tx();
    Address from = vtx.sender();
    if (!tx.chainId().equals(config.chainId())) {
      throw reject(WRONG_CHAIN,
          "transaction is for chain '" + tx.chainId() + "', this is '" + config.chainId() + "'");
    }
    Account sender = account(from);
    if (tx.nonce() != sender.nonce()) {
      throw reject(BAD_NONCE, tx.nonce() < sender.nonce()
          ? "nonce " + tx.nonce() + " of " + from + " is already used (next is " + sender.nonce()
              + "): a replayed or duplicate transaction"
          : "nonce " + tx.nonce() + " of " + from + " is ahead of the next nonce " + sender.nonce()
              + "; submit the missing transactions first");
    }
    if (tx.fee() < config.minFee()) {
      throw reject(FEE_TOO_LOW, "fee " + tx.fee() + " is below the minimum of " + config.minFee());
    }
    if (tx.action() instanceof Action.Faucet f) {
      mint(from, f.amount()); // a faucet user may start with nothing, so the mint pays the fee
    }
    debit(from, tx.fee(), "the fee");
    credit(config.treasury(), tx.fee());
    Account after = account(from);
    write(StateKey.account(from), new Account(after.balance(), Math.addExact(after.nonce(), 1)));

    return switch (tx.action()) {
      case Action.Faucet f -> Optional.empty();
      case Action.Transfer t -> {
        debit(from, t.amount(), "a transfer");
        credit(t.to(), t.amount());
        yield Optional.empty();
      }
      case Action.Stake s -> {
        debit(from, s.amount(), "staking");
        StateRecord.Stake st = stake(from);
        write(StateKey.stake(from),
            new StateRecord.Stake(Math.addExact(st.bonded(), s.amount()), st.unbonding(), st.releaseHeight()));
        yield Optional.empty();
      }
      case Action.BeginUnstake u -> {
        beginUnstake(from, u.amount());
        yield Optional.empty();
      }
      case Action.Withdraw w -> {
        withdraw(from);
        yield Optional.empty();
      }
      case Action.RegisterNode r -> {
        registerNode(vtx, from, r);
        yield Optional.empty();
      }
      case Action.Heartbeat h -> {
        Node n = node(from);
        if (n == null) {
          throw reject(NOT_FOUND, "no node is registered for " + from + "; register before sending heartbeats");
        }
        write(StateKey.node(from), new Node(n.operator(), n.endpoint(), n.roles(), n.models(),
            n.capacity(), n.registeredHeight(), height));
        yield Optional.empty();
      }
      case Action.RegisterModel m -> {
        if (model(m.manifest()) != null) {
          throw reject(ALREADY_EXISTS, "model " + m.manifest()
              + " is already registered; register a new version under its own manifest");
        }
        write(StateKey.model(m.manifest()),
            new StateRecord.Model(m.manifest(), from, m.pricePerInference(), height));
        yield Optional.empty();
      }
      case Action.OpenJob o -> Optional.of(openJob(from, tx.nonce(), o));
      case Action.SettleJob s -> {
        settleJob(from, s);
        yield Optional.empty();
      }
      case Action.FailJob f -> {
        failJob(from, f);
        yield Optional.empty();
      }
      case Action.CommitReceipts c -> {
        commitReceipts(from, c);
        yield Optional.empty();
      }
      case Action.Challenge c -> Optional.of(challenge(from, tx.nonce(), c));
      case Action.Resolve r -> {
        if (!tx.sender().equals(config.authority())) {
          throw reject(NOT_AUTHORIZED, "only the genesis authority " + config.authority() + " resolves challenges");
        }
        resolve(r);
        yield Optional.empty();
      }
    };
  }

  private void mint(Address to, long amount) throws TransactionRejected {
    if (!config.devNetwork()) {
      throw reject(FAUCET_DISABLED, "the faucet exists only on dev networks; chain '"
          + config.chainId() + "' is not one");
    }
    if (amount > config.faucetMaxPerTx()) {
      throw reject(FAUCET_DISABLED, "faucet amount " + amount + " exceeds the limit of "
          + config.faucetMaxPerTx() + " per transaction");
    }
    StateRecord.Supply s = supply();
    write(StateKey.SUPPLY, new StateRecord.Supply(Math.addExact(s.minted(), amount), s.burned()));
    credit(to, amount);
  }

  private void beginUnstake(Address from, long amount) throws TransactionRejected {
    StateRecord.Stake st = stake(from);
    if (st.bonded() < amount) {
      throw reject(INSUFFICIENT_STAKE,
          "cannot unstake " + amount + ": " + from + " has " + st.bonded() + " bonded");
    }
    write(StateKey.stake(from), new StateRecord.Stake(st.bonded() - amount,
        Math.addExact(st.unbonding(), amount), Math.addExact(height, config.unbondingBlocks())));
  }

  private void withdraw(Address from) throws TransactionRejected {
    StateRecord.Stake st = stake(from);
    if (st.unbonding() == 0) {
      throw reject(NOTHING_TO_WITHDRAW, from + " has no unbonding stake; unstake first");
    }
    if (height < st.releaseHeight()) {
      throw reject(STILL_UNBONDING, "unbonding stake of " + st.unbonding() + " becomes withdrawable at block "
          + st.releaseHeight() + "; this is block " + height);
    }
    write(StateKey.stake(from), new StateRecord.Stake(st.bonded(), 0, 0));
    credit(from, st.unbonding());
  }

  private void registerNode(VerifiedTransaction vtx, Address from, Action.RegisterNode r)
      throws TransactionRejected {
    if (r.roles().contains(NodeRole.SEQUENCER) && !vtx.tx().sender().equals(config.sequencer())) {
      throw reject(NOT_AUTHORIZED, "only the genesis sequencer key may register the sequencer role");
    }
    for (Cid m : r.models()) {
      if (model(m) == null) {
        throw reject(NOT_FOUND, "node lists model " + m + ", which is not registered");
      }
    }
    StateRecord.Stake st = stake(from);
    if (r.stake() > 0) {
      debit(from, r.stake(), "the node's stake");
      st = new StateRecord.Stake(Math.addExact(st.bonded(), r.stake()), st.unbonding(), st.releaseHeight());
      write(StateKey.stake(from), st);
    }
    if (st.bonded() < config.minNodeStake()) {
      throw reject(INSUFFICIENT_STAKE, "a node needs " + config.minNodeStake() + " bonded stake; "
          + from + " would have " + st.bonded());
    }
    Node old = node(from);
    write(StateKey.node(from), new Node(from, r.endpoint(), r.roles(), r.models(), r.capacity(),
        old == null ? height : old.registeredHeight(), height));
  }

  private Hash openJob(Address client, long nonce, Action.OpenJob o) throws TransactionRejected {
    StateRecord.Model m = model(o.model());
    if (m == null) {
      throw reject(NOT_FOUND, "no model " + o.model() + " is registered");
    }
    if (o.worker().isPresent()) {
      Address w = o.worker().get();
      Node n = node(w);
      if (n == null) {
        throw reject(NOT_FOUND, "no node is registered for worker " + w);
      }
      if (!n.roles().contains(NodeRole.WORKER) || !n.serves(o.model())) {
        throw reject(INVALID_ARGUMENT, "node " + w + " does not serve model " + o.model() + " as a worker");
      }
    }
    long royalties = Math.multiplyExact(m.pricePerInference(), (long) o.inferences());
    if (o.maxFee() < royalties) {
      throw reject(INVALID_ARGUMENT, "escrow " + o.maxFee() + " does not cover the model royalty of "
          + m.pricePerInference() + " x " + o.inferences() + " = " + royalties);
    }
    debit(client, o.maxFee(), "the job escrow");
    Hash id = Action.OpenJob.jobId(client, nonce);
    if (read(StateKey.job(id)) != null) {
      throw new IllegalStateException("job id " + id + " derived twice");
    }
    write(StateKey.job(id), new Job(id, client, o.model(), m.owner(), m.pricePerInference(),
        o.worker(), o.inferences(), o.maxFee(), Job.Status.OPEN, height,
        Math.addExact(height, config.jobTimeoutBlocks()), 0, 0, 0));
    return id;
  }

  private boolean isWorkerFor(Address a, Cid model) {
    Node n = node(a);
    return n != null && n.roles().contains(NodeRole.WORKER) && n.serves(model);
  }

  private void settleJob(Address from, Action.SettleJob s) throws TransactionRejected {
    Job j = job(s.job());
    if (j.status() != Job.Status.OPEN) {
      throw reject(WRONG_STATE, "job " + j.id() + " is " + j.status().label() + "; only open jobs settle");
    }
    if (j.worker().isPresent() ? !j.worker().get().equals(from) : !isWorkerFor(from, j.model())) {
      throw reject(NOT_AUTHORIZED, j.worker().isPresent()
          ? "only the job's worker " + j.worker().get() + " may settle job " + j.id()
          : from + " is not a registered worker serving model " + j.model());
    }
    if (s.inferences() > j.inferences()) {
      throw reject(INVALID_ARGUMENT, "job " + j.id() + " covers " + j.inferences()
          + " inferences, not " + s.inferences());
    }
    long royalty = Math.multiplyExact(j.modelPrice(), (long) s.inferences());
    long charged = Math.addExact(royalty, s.operatorFee());
    if (charged > j.escrow()) {
      throw reject(INVALID_ARGUMENT, "royalty " + royalty + " plus operator fee " + s.operatorFee()
          + " exceeds the escrow of " + j.escrow());
    }
    for (Address v : s.verifiers()) {
      Node n = node(v);
      if (v.equals(from) || n == null || !n.roles().contains(NodeRole.VERIFIER)) {
        throw reject(INVALID_ARGUMENT, v + " is not a registered verifier other than the worker");
      }
    }
    long protocol = Fields.share(s.operatorFee(), config.protocolShareBps());
    long perVerifier = s.verifiers().isEmpty() ? 0
        : Fields.share(s.operatorFee(), config.verifierShareBps()) / s.verifiers().size();
    long operator = s.operatorFee() - protocol - perVerifier * s.verifiers().size();
    credit(j.modelOwner(), royalty);
    credit(config.treasury(), protocol);
    for (Address v : s.verifiers()) {
      credit(v, perVerifier);
    }
    credit(from, operator);
    credit(j.client(), j.escrow() - charged);
    write(StateKey.job(j.id()), new Job(j.id(), j.client(), j.model(), j.modelOwner(), j.modelPrice(),
        Optional.of(from), j.inferences(), j.escrow(), Job.Status.SETTLED, j.openedHeight(),
        j.expiresHeight(), charged, height, j.receipts()));
  }

  private void failJob(Address from, Action.FailJob f) throws TransactionRejected {
    Job j = job(f.job());
    if (j.status() != Job.Status.OPEN) {
      throw reject(WRONG_STATE, "job " + j.id() + " is " + j.status().label() + "; only open jobs fail");
    }
    boolean byWorker = j.worker().isPresent() && j.worker().get().equals(from);
    boolean byClient = j.client().equals(from);
    if (!byWorker && !(byClient && height >= j.expiresHeight())) {
      throw reject(NOT_AUTHORIZED, byClient
          ? "the client may reclaim the escrow of job " + j.id() + " from block " + j.expiresHeight()
              + "; this is block " + height
          : "only the job's worker, or its client after expiry, may fail job " + j.id());
    }
    credit(j.client(), j.escrow());
    write(StateKey.job(j.id()), j.withStatus(Job.Status.FAILED));
  }

  private void commitReceipts(Address from, Action.CommitReceipts c) throws TransactionRejected {
    for (Action.CommitReceipts.Entry e : c.receipts()) {
      Job j = job(e.job());
      if (j.worker().isEmpty() || !j.worker().get().equals(from)) {
        throw reject(NOT_AUTHORIZED, "only the worker of job " + j.id() + " commits its receipts");
      }
      if (j.status() == Job.Status.FAILED || j.status() == Job.Status.INVALID) {
        throw reject(WRONG_STATE, "job " + j.id() + " is " + j.status().label() + "; it takes no receipts");
      }
      if (j.receipts() >= j.inferences()) {
        throw reject(INVALID_ARGUMENT, "job " + j.id() + " already has all " + j.inferences() + " receipts");
      }
      if (read(StateKey.receipt(e.receipt())) != null) {
        throw reject(ALREADY_EXISTS, "receipt " + e.receipt() + " is already committed");
      }
      write(StateKey.job(j.id()), new Job(j.id(), j.client(), j.model(), j.modelOwner(), j.modelPrice(),
          j.worker(), j.inferences(), j.escrow(), j.status(), j.openedHeight(), j.expiresHeight(),
          j.charged(), j.settledHeight(), j.receipts() + 1));
      write(StateKey.receipt(e.receipt()), new StateRecord.Receipt(e.receipt(), j.id(), from, height));
      pendingLeaves.add(e.leaf());
    }
  }

  private Hash challenge(Address from, long nonce, Action.Challenge c) throws TransactionRejected {
    Job j = job(c.job());
    if (j.status() != Job.Status.SETTLED) {
      throw reject(WRONG_STATE, "only settled jobs can be challenged; job " + j.id() + " is " + j.status().label());
    }
    long closes = Math.addExact(j.settledHeight(), config.challengeWindowBlocks());
    if (height > closes) {
      throw reject(WRONG_STATE, "the challenge window of job " + j.id() + " closed at block " + closes);
    }
    if (c.bond() < config.minChallengeBond()) {
      throw reject(INVALID_ARGUMENT, "bond " + c.bond() + " is below the minimum of " + config.minChallengeBond());
    }
    debit(from, c.bond(), "the challenge bond");
    Hash id = Action.Challenge.challengeId(from, nonce);
    write(StateKey.challenge(id), new StateRecord.Challenge(id, from, j.id(), c.bond(), c.evidence(),
        StateRecord.Challenge.Status.OPEN, height, 0));
    write(StateKey.job(j.id()), j.withStatus(Job.Status.CHALLENGED));
    return id;
  }

  private void resolve(Action.Resolve r) throws TransactionRejected {
    StateRecord.Challenge ch = (StateRecord.Challenge) read(StateKey.challenge(r.challenge()));
    if (ch == null) {
      throw reject(NOT_FOUND, "no challenge " + r.challenge());
    }
    if (ch.status() != StateRecord.Challenge.Status.OPEN) {
      throw reject(WRONG_STATE, "challenge " + ch.id() + " is already " + ch.status().label());
    }
    Job j = job(ch.job());
    Address worker = j.worker().orElseThrow(
        () -> new IllegalStateException("challenged job " + j.id() + " has no worker"));
    if (!r.guilty()) {
      credit(worker, ch.bond());
      write(StateKey.job(j.id()), j.withStatus(Job.Status.SETTLED));
      write(StateKey.challenge(ch.id()), ch.resolved(StateRecord.Challenge.Status.REJECTED, 0));
      return;
    }
    StateRecord.Stake st = stake(worker);
    long fromBonded = Fields.share(st.bonded(), config.slashBps());
    long fromUnbonding = Fields.share(st.unbonding(), config.slashBps());
    long slashed = Math.addExact(fromBonded, fromUnbonding);
    long refund = Math.min(j.charged(), slashed);
    long reward = Fields.share(slashed - refund, config.challengerRewardBps());
    long burned = slashed - refund - reward;
    write(StateKey.stake(worker),
        new StateRecord.Stake(st.bonded() - fromBonded, st.unbonding() - fromUnbonding, st.releaseHeight()));
    credit(j.client(), refund);
    credit(ch.challenger(), Math.addExact(ch.bond(), reward));
    StateRecord.Supply s = supply();
    write(StateKey.SUPPLY, new StateRecord.Supply(s.minted(), Math.addExact(s.burned(), burned)));
    write(StateKey.job(j.id()), j.withStatus(Job.Status.INVALID));
    write(StateKey.challenge(ch.id()), ch.resolved(StateRecord.Challenge.Status.UPHELD, slashed));
  }
}
