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
import static dev.verity.ledger.TransactionRejected.Reason.REFEREE_UNAVAILABLE;
import static dev.verity.ledger.TransactionRejected.Reason.STAKE_IN_USE;
import static dev.verity.ledger.TransactionRejected.Reason.STILL_UNBONDING;
import static dev.verity.ledger.TransactionRejected.Reason.WRONG_CHAIN;
import static dev.verity.ledger.TransactionRejected.Reason.WRONG_STATE;

import dev.verity.core.Cid;
import dev.verity.core.Hash;
import dev.verity.core.VerificationException;
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
 * <p><b>Deterministic.</b> The outcome depends only on the starting state, the block height, the
 * previous header's hash, the block's time (as its header records it), the transactions in order,
 * and the verdicts of the {@link DisputeReferee}, a pure function of content-addressed data. No
 * clock, randomness, I/O or iteration over unordered collections influences it. Heights measure
 * unbonding, job expiry and challenge windows; the block time measures dispute move deadlines.
 *
 * <p><b>Optimistic jobs.</b> A worker commits a {@link TraceCommitment} with a job's receipt; the
 * block two heights later draws the job's {@link Sample} from the hash of the header in between.
 * Assigned verifiers {@link Action.Attest}; anyone may {@link Action.Challenge} within the window.
 * A dispute bisects the two trace trees to the leftmost differing step, which the worker opens
 * ({@link Action.ProveStep}) for the referee; {@link Action.Timeout} decides against a party that
 * does not move in time. Guilty: worker slashed, client refunded, challenger rewarded, attesters
 * of the wrong root slashed, job {@code INVALID}. A job with no successful challenge becomes
 * {@code FINAL} by {@link Action.Finalize} after its window; planted jobs are revealed by their
 * client ({@link Action.Reveal}) and their attesters slashed.
 *
 * <p><b>No exit before the ruling.</b> Each address's {@link StateRecord.Exposure} counts the
 * optimistic jobs it committed or attested that are not final or invalid, the open disputes and
 * contests against it, and the charges of its unfinalized jobs. {@link Action.Withdraw} is refused
 * while it counts any job or dispute; a node whose stake is unbonding takes no new jobs (an {@link
 * Action.OpenJob} naming it and its {@link Action.SettleJob} are refused); a commitment that would
 * bring the worker's charges in flight above {@link GenesisConfig#maxInFlightBps()} of its stake is
 * refused. {@link StateRecord.Horizon} records the last height a window, reveal period or unbonding
 * release waits for, so the sequencer keeps sealing blocks on an idle chain until it is reached.
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
  private final Hash previousHeader;
  private final long timeMillis;
  private final DisputeReferee referee;
  /** Writes of the transactions applied so far in this block. */
  private final Map<StateKey, StateRecord> block = new HashMap<>();
  /** Writes of the transaction being applied; merged into {@link #block} only on success. */
  private final Map<StateKey, StateRecord> pending = new HashMap<>();
  private final List<byte[]> pendingLeaves = new ArrayList<>();
  private final List<VerifiedTransaction> included = new ArrayList<>();
  private final List<byte[]> receiptLeaves = new ArrayList<>();
  private boolean finished;

  BlockExecution(LedgerState base, long height, Hash previousHeader, long timeMillis,
      DisputeReferee referee) {
    this.base = base;
    this.height = height;
    this.config = base.config();
    this.previousHeader = java.util.Objects.requireNonNull(previousHeader, "previous header");
    this.timeMillis = timeMillis;
    this.referee = java.util.Objects.requireNonNull(referee, "referee");
    drawSamples();
  }

  /** The block time the transactions are executed at. */
  public long timeMillis() {
    return timeMillis;
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
      case Action.Contest c -> Optional.of(contest(from, tx.nonce(), c));
      case Action.Challenge c -> Optional.of(challenge(from, c));
      case Action.Attest a -> {
        attest(from, a);
        yield Optional.empty();
      }
      case Action.Bisect b -> {
        bisect(from, b);
        yield Optional.empty();
      }
      case Action.ProveStep p -> {
        proveStep(from, p.dispute(), Optional.of(p.opening()), Optional.empty());
        yield Optional.empty();
      }
      case Action.ProveStepByBlob p -> {
        proveStep(from, p.dispute(), Optional.empty(), Optional.of(p.opening()));
        yield Optional.empty();
      }
      case Action.Timeout t -> {
        timeout(t);
        yield Optional.empty();
      }
      case Action.Finalize f -> {
        finalizeJob(f);
        yield Optional.empty();
      }
      case Action.Reveal r -> {
        reveal(from, r);
        yield Optional.empty();
      }
      case Action.Resolve r -> {
        if (!tx.sender().equals(config.authority())) {
          throw reject(NOT_AUTHORIZED, "only the genesis authority " + config.authority() + " resolves contests");
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
    long release = Math.addExact(height, config.unbondingBlocks());
    write(StateKey.stake(from), new StateRecord.Stake(st.bonded() - amount,
        Math.addExact(st.unbonding(), amount), release));
    extendHorizon(release - 1); // the Withdraw transaction makes the release block
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
    StateRecord.Exposure e = exposure(from);
    if (e.locked()) {
      throw reject(STAKE_IN_USE, "the stake of " + from + " still backs " + e.jobs()
          + " optimistic job(s) not yet final or invalid and " + e.disputes()
          + " open dispute(s) or contest(s); withdraw after they end (Finalize the jobs after their"
          + " windows, or wait for the rulings)");
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
    StateRecord.Verifiers vs = (StateRecord.Verifiers) read(StateKey.VERIFIERS);
    List<Address> list = new ArrayList<>(vs == null ? List.of() : vs.operators());
    int at = java.util.Collections.binarySearch(list, from);
    if (r.roles().contains(NodeRole.VERIFIER) && at < 0) {
      list.add(-at - 1, from);
      write(StateKey.VERIFIERS, new StateRecord.Verifiers(list));
    } else if (!r.roles().contains(NodeRole.VERIFIER) && at >= 0) {
      list.remove(at);
      write(StateKey.VERIFIERS, new StateRecord.Verifiers(list));
    }
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
      requireNotUnbonding(w, "a job naming it");
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
        Math.addExact(height, config.jobTimeoutBlocks()), 0, 0, 0, o.samplingPpm(), o.audit()));
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
    requireNotUnbonding(from, "settling job " + j.id());
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
        j.expiresHeight(), charged, height, j.receipts(), j.samplingPpm(), j.audit()));
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
      if (e.trace().isPresent()) {
        commitTrace(from, j, e.trace().get());
      }
      write(StateKey.job(j.id()), new Job(j.id(), j.client(), j.model(), j.modelOwner(), j.modelPrice(),
          j.worker(), j.inferences(), j.escrow(), j.status(), j.openedHeight(), j.expiresHeight(),
          j.charged(), j.settledHeight(), j.receipts() + 1, j.samplingPpm(), j.audit()));
      write(StateKey.receipt(e.receipt()), new StateRecord.Receipt(e.receipt(), j.id(), from, height));
      pendingLeaves.add(e.leaf());
    }
  }

  private Hash contest(Address from, long nonce, Action.Contest c) throws TransactionRejected {
    Job j = job(c.job());
    if (read(StateKey.check(j.id())) != null) {
      throw reject(WRONG_STATE, "job " + j.id() + " has a trace commitment; challenge it with a Challenge"
          + " (dispute game) instead of a Contest");
    }
    if (j.status() != Job.Status.SETTLED) {
      throw reject(WRONG_STATE, "only settled jobs can be contested; job " + j.id() + " is " + j.status().label());
    }
    long closes = Math.addExact(j.settledHeight(), config.challengeWindowBlocks());
    if (height > closes) {
      throw reject(WRONG_STATE, "the challenge window of job " + j.id() + " closed at block " + closes);
    }
    if (c.bond() < config.minChallengeBond()) {
      throw reject(INVALID_ARGUMENT, "bond " + c.bond() + " is below the minimum of " + config.minChallengeBond());
    }
    debit(from, c.bond(), "the contest bond");
    expose(j.worker().orElseThrow(), 0, 1, 0);
    Hash id = Action.Challenge.challengeId(from, nonce);
    write(StateKey.challenge(id), new StateRecord.Challenge(id, from, j.id(), c.bond(), c.evidence(),
        StateRecord.Challenge.Status.OPEN, height, 0));
    write(StateKey.job(j.id()), j.withStatus(Job.Status.CHALLENGED));
    return id;
  }

  private void resolve(Action.Resolve r) throws TransactionRejected {
    StateRecord.Challenge ch = (StateRecord.Challenge) read(StateKey.challenge(r.challenge()));
    if (ch == null) {
      throw reject(NOT_FOUND, "no contest " + r.challenge());
    }
    if (ch.status() != StateRecord.Challenge.Status.OPEN) {
      throw reject(WRONG_STATE, "contest " + ch.id() + " is already " + ch.status().label());
    }
    Job j = job(ch.job());
    Address worker = j.worker().orElseThrow(
        () -> new IllegalStateException("contested job " + j.id() + " has no worker"));
    expose(worker, 0, -1, 0);
    if (!r.guilty()) {
      credit(worker, ch.bond());
      write(StateKey.job(j.id()), j.withStatus(Job.Status.SETTLED));
      write(StateKey.challenge(ch.id()), ch.resolved(StateRecord.Challenge.Status.REJECTED, 0));
      return;
    }
    long slashed = punishWorker(j, worker, ch.challenger(), ch.bond());
    write(StateKey.job(j.id()), j.withStatus(Job.Status.INVALID));
    write(StateKey.challenge(ch.id()), ch.resolved(StateRecord.Challenge.Status.UPHELD, slashed));
  }

  /**
   * Slashes a guilty worker by the genesis fraction of its bonded and unbonding stake: the client
   * is refunded its charge from it, the challenger gets its bond back plus its reward share of the
   * rest, the remainder is burned. Returns the amount slashed.
   */
  private long punishWorker(Job j, Address worker, Address challenger, long bond) {
    long slashed = slashStake(worker);
    long refund = Math.min(j.charged(), slashed);
    long reward = Fields.share(slashed - refund, config.challengerRewardBps());
    credit(j.client(), refund);
    credit(challenger, Math.addExact(bond, reward));
    burn(slashed - refund - reward);
    return slashed;
  }

  /** Takes the genesis slash fraction of {@code who}'s bonded and unbonding stake; returns it. */
  private long slashStake(Address who) {
    StateRecord.Stake st = stake(who);
    long fromBonded = Fields.share(st.bonded(), config.slashBps());
    long fromUnbonding = Fields.share(st.unbonding(), config.slashBps());
    if (fromBonded + fromUnbonding > 0) {
      write(StateKey.stake(who),
          new StateRecord.Stake(st.bonded() - fromBonded, st.unbonding() - fromUnbonding, st.releaseHeight()));
    }
    return Math.addExact(fromBonded, fromUnbonding);
  }

  private void burn(long amount) {
    if (amount == 0) {
      return;
    }
    StateRecord.Supply s = supply();
    write(StateKey.SUPPLY, new StateRecord.Supply(s.minted(), Math.addExact(s.burned(), amount)));
  }

  // ---- what stake still backs: exposure, the unbonding rule, the horizon ----

  private StateRecord.Exposure exposure(Address a) {
    StateRecord r = read(StateKey.exposure(a));
    return r == null ? StateRecord.Exposure.NONE : (StateRecord.Exposure) r;
  }

  private void expose(Address a, long jobs, long disputes, long fees) {
    write(StateKey.exposure(a), exposure(a).plus(jobs, disputes, fees));
  }

  /** An optimistic job leaves FINAL or INVALID: its worker and attesters no longer answer for it. */
  private void release(Job j, StateRecord.Check c) {
    expose(c.worker(), -1, 0, -j.charged());
    for (Address v : c.attesters()) {
      expose(v, -1, 0, 0);
    }
  }

  /** Refuses new work to a node whose stake is on its way out (Rule C). */
  private void requireNotUnbonding(Address worker, String what) throws TransactionRejected {
    StateRecord.Stake st = stake(worker);
    if (st.unbonding() > 0) {
      throw reject(WRONG_STATE, "node " + worker + " is unbonding " + st.unbonding()
          + " (withdrawable from block " + st.releaseHeight() + ") and takes no new jobs, so " + what
          + " is refused; withdraw first, or use another worker");
    }
  }

  /** Makes sure the chain keeps producing blocks until {@code h} (see {@link StateRecord.Horizon}). */
  private void extendHorizon(long h) {
    StateRecord r = read(StateKey.HORIZON);
    if (r == null || ((StateRecord.Horizon) r).height() < h) {
      write(StateKey.HORIZON, new StateRecord.Horizon(h));
    }
  }
  // ---- optimistic jobs: commitment, sampling, attestation, finality, planted jobs ----

  private StateRecord.Check check(Job j) throws TransactionRejected {
    StateRecord.Check c = (StateRecord.Check) read(StateKey.check(j.id()));
    if (c == null) {
      throw reject(WRONG_STATE, "job " + j.id() + " has no trace commitment (it is not an optimistic job)");
    }
    return c;
  }

  private void requireOptimistic() throws TransactionRejected {
    if (!config.optimistic()) {
      throw reject(INVALID_ARGUMENT, "chain '" + config.chainId()
          + "' does not enable optimistic verification (its genesis sets no dispute move time)");
    }
  }

  /** The last block in which an optimistic job can be challenged or attested. */
  private long windowEnd(StateRecord.Check c) {
    return windowEnd(c.committedHeight());
  }

  private long windowEnd(long committedHeight) {
    return Math.addExact(committedHeight, config.challengeWindowBlocks());
  }

  private void commitTrace(Address worker, Job j, TraceCommitment trace) throws TransactionRejected {
    requireOptimistic();
    if (j.status() != Job.Status.SETTLED) {
      throw reject(WRONG_STATE, "job " + j.id() + " is " + j.status().label()
          + "; a trace commitment is made after the job is settled");
    }
    if (read(StateKey.check(j.id())) != null) {
      throw reject(ALREADY_EXISTS, "job " + j.id() + " already has a trace commitment");
    }
    if (config.maxInFlightBps() > 0) {
      StateRecord.Stake st = stake(worker);
      long bound = Fields.share(Math.addExact(st.bonded(), st.unbonding()), config.maxInFlightBps());
      long inFlight = Math.addExact(exposure(worker).fees(), j.charged());
      if (inFlight > bound) {
        throw reject(INSUFFICIENT_STAKE, "committing job " + j.id() + " would put " + inFlight
            + " of charges on " + worker + "'s unfinalized optimistic jobs, above the bound of "
            + config.maxInFlightBps() + " bps of its stake (" + bound + "); finalize jobs or bond more stake");
      }
    }
    expose(worker, 1, 0, j.charged());
    long end = windowEnd(height);
    if (j.audit().isPresent()) {
      end = Math.addExact(end, config.challengeWindowBlocks());
    }
    extendHorizon(end); // the block after it may finalize the job; a Finalize transaction makes it
    long pool = Math.multiplyExact(config.checkFee(), (long) config.verifiersPerSample());
    debit(worker, pool, "the check pool (" + config.verifiersPerSample() + " x check fee " + config.checkFee() + ")");
    write(StateKey.check(j.id()), new StateRecord.Check(j.id(), worker, trace, height, Optional.empty(),
        Optional.empty(), List.of(), pool, 0));
    StateRecord.Sampling s = sampling();
    List<StateRecord.Sampling.Pending> pending = new ArrayList<>(s.pending());
    pending.add(new StateRecord.Sampling.Pending(height, j.id()));
    write(StateKey.SAMPLING, new StateRecord.Sampling(pending));
  }

  private StateRecord.Sampling sampling() {
    StateRecord r = read(StateKey.SAMPLING);
    return r == null ? StateRecord.Sampling.EMPTY : (StateRecord.Sampling) r;
  }

  /**
   * At the start of the block: jobs committed two blocks ago get their seed (the previous header's
   * hash) and their sample. Written straight into the block's writes: part of every execution of
   * this block whatever its transactions.
   */
  private void drawSamples() {
    StateRecord r = base.getOrNull(StateKey.SAMPLING);
    if (r == null) {
      return;
    }
    List<StateRecord.Sampling.Pending> pending = ((StateRecord.Sampling) r).pending();
    List<StateRecord.Sampling.Pending> keep = new ArrayList<>();
    List<Candidate> candidates = null;
    for (StateRecord.Sampling.Pending p : pending) {
      if (p.height() > height - 2) {
        keep.add(p);
        continue;
      }
      if (candidates == null) {
        candidates = verifierCandidates();
      }
      StateRecord.Check c = (StateRecord.Check) base.getOrNull(StateKey.check(p.job()));
      Job j = (Job) base.getOrNull(StateKey.job(p.job()));
      if (c == null || j == null) {
        throw new IllegalStateException("job " + p.job() + " waits for a sample but has no commitment");
      }
      Sample sample = draw(previousHeader, j, c.worker(), candidates);
      block.put(StateKey.check(p.job()), c.with(Optional.of(previousHeader), Optional.of(sample),
          c.attesters(), c.checkPool(), c.openDisputes()));
    }
    if (keep.size() != pending.size()) {
      block.put(StateKey.SAMPLING, new StateRecord.Sampling(keep));
    }
  }

  /** A verifier that may be drawn, with its weight (bonded stake). */
  private record Candidate(Address address, long weight) {}

  /** Registered verifier nodes with at least the minimum stake, in address order. */
  private List<Candidate> verifierCandidates() {
    StateRecord r = base.getOrNull(StateKey.VERIFIERS);
    List<Candidate> out = new ArrayList<>();
    if (r == null) {
      return out;
    }
    for (Address a : ((StateRecord.Verifiers) r).operators()) {
      long bonded = base.stake(a).bonded();
      if (bonded >= Math.max(1, config.minNodeStake())) {
        out.add(new Candidate(a, bonded));
      }
    }
    return out;
  }

  private Sample draw(Hash seed, Job j, Address worker, List<Candidate> all) {
    int rate = Math.max(config.samplingPpm(), j.samplingPpm());
    byte[] seedJob = new byte[2 * Hash.LENGTH];
    System.arraycopy(seed.toBytes(), 0, seedJob, 0, Hash.LENGTH);
    System.arraycopy(j.id().toBytes(), 0, seedJob, Hash.LENGTH, Hash.LENGTH);
    long u = u64(Hash.tagged("verity/sample/v1", seedJob));
    if (Long.remainderUnsigned(u, Action.OpenJob.PPM) >= rate) {
      return new Sample(false, List.of());
    }
    List<Candidate> pool = new ArrayList<>();
    long total = 0;
    for (Candidate c : all) {
      if (!c.address().equals(worker)) {
        pool.add(c);
        total = Math.addExact(total, c.weight());
      }
    }
    List<Address> chosen = new ArrayList<>();
    for (int k = 0; k < config.verifiersPerSample() && !pool.isEmpty(); k++) {
      byte[] in = java.util.Arrays.copyOf(seedJob, seedJob.length + 4);
      java.nio.ByteBuffer.wrap(in, seedJob.length, 4).putInt(k);
      long r = Long.remainderUnsigned(u64(Hash.tagged("verity/sample/v1/verifier", in)), total);
      int i = 0;
      while (r >= pool.get(i).weight()) {
        r -= pool.get(i).weight();
        i++;
      }
      Candidate c = pool.remove(i);
      total -= c.weight();
      chosen.add(c.address());
    }
    return new Sample(true, chosen);
  }

  private static long u64(Hash h) {
    return java.nio.ByteBuffer.wrap(h.toBytes()).getLong();
  }

  private void attest(Address from, Action.Attest a) throws TransactionRejected {
    requireOptimistic();
    Job j = job(a.job());
    StateRecord.Check c = check(j);
    if (j.status() != Job.Status.SETTLED && j.status() != Job.Status.CHALLENGED) {
      throw reject(WRONG_STATE, "job " + j.id() + " is " + j.status().label() + "; it takes no attestations");
    }
    if (c.sample().isEmpty()) {
      throw reject(WRONG_STATE, "job " + j.id() + " has not been sampled yet (its seed is the header after block "
          + c.committedHeight() + ", recorded from block " + (c.committedHeight() + 2) + ")");
    }
    if (!c.sample().get().assigned(from)) {
      throw reject(NOT_AUTHORIZED, from + " is not a verifier assigned to job " + j.id()
          + (c.sample().get().sampled() ? " (assigned: " + c.sample().get().verifiers() + ")" : " (not sampled)"));
    }
    if (c.attesters().contains(from)) {
      throw reject(ALREADY_EXISTS, from + " has already attested job " + j.id());
    }
    if (height > windowEnd(c)) {
      throw reject(WRONG_STATE, "the challenge window of job " + j.id() + " closed at block " + windowEnd(c));
    }
    if (!a.root().equals(c.trace().root())) {
      throw reject(INVALID_ARGUMENT, "root " + a.root() + " is not the committed trace root " + c.trace().root()
          + " of job " + j.id() + "; a verifier that computes another root challenges the job instead");
    }
    List<Address> att = new ArrayList<>(c.attesters());
    att.add(from);
    expose(from, 1, 0, 0);
    write(StateKey.check(j.id()), c.with(c.seed(), c.sample(), att, c.checkPool(), c.openDisputes()));
  }

  private void finalizeJob(Action.Finalize f) throws TransactionRejected {
    Job j = job(f.job());
    StateRecord.Check c = check(j);
    if (j.status() != Job.Status.SETTLED) {
      throw reject(WRONG_STATE, "job " + j.id() + " is " + j.status().label()
          + (j.status() == Job.Status.CHALLENGED ? " (a dispute is open)" : "") + "; only settled jobs become final");
    }
    long end = windowEnd(c);
    if (j.audit().isPresent()) {
      end = Math.addExact(end, config.challengeWindowBlocks());
    }
    if (height <= end || c.sample().isEmpty()) {
      throw reject(WRONG_STATE, "job " + j.id() + " can become final from block " + (end + 1)
          + (j.audit().isPresent() ? " (its audit commitment adds a reveal period)" : "") + "; this is block " + height);
    }
    long pool = c.checkPool();
    for (Address v : c.attesters()) {
      long fee = Math.min(config.checkFee(), pool);
      credit(v, fee);
      pool -= fee;
    }
    credit(c.worker(), pool);
    release(j, c);
    write(StateKey.check(j.id()), c.with(c.seed(), c.sample(), c.attesters(), 0, c.openDisputes()));
    write(StateKey.job(j.id()), j.withStatus(Job.Status.FINAL));
  }

  private void reveal(Address from, Action.Reveal r) throws TransactionRejected {
    Job j = job(r.job());
    StateRecord.Check c = check(j);
    if (!j.client().equals(from)) {
      throw reject(NOT_AUTHORIZED, "only the client " + j.client() + " of job " + j.id() + " may reveal it");
    }
    if (j.audit().isEmpty()) {
      throw reject(INVALID_ARGUMENT, "job " + j.id() + " was opened without an audit commitment");
    }
    if (!Action.OpenJob.auditCommitment(r.salt(), j.id()).equals(j.audit().get())) {
      throw reject(INVALID_ARGUMENT, "the salt does not open the audit commitment of job " + j.id());
    }
    if (!Action.OpenJob.plantedRoot(r.salt(), j.id()).equals(c.trace().root())) {
      throw reject(INVALID_ARGUMENT, "job " + j.id() + " was not planted: its trace root is not the planted root");
    }
    if (j.status() != Job.Status.SETTLED && j.status() != Job.Status.CHALLENGED) {
      throw reject(WRONG_STATE, "job " + j.id() + " is " + j.status().label() + "; it can no longer be revealed");
    }
    if (height <= windowEnd(c)) {
      throw reject(WRONG_STATE, "a planted job is revealed after its challenge window, which closes at block "
          + windowEnd(c) + "; this is block " + height);
    }
    long slashed = slashAttesters(c);
    long reward = Fields.share(slashed, config.challengerRewardBps());
    credit(from, reward);
    burn(slashed - reward);
    credit(c.worker(), c.checkPool());
    release(j, c);
    write(StateKey.check(j.id()), c.with(c.seed(), c.sample(), c.attesters(), 0, c.openDisputes()));
    write(StateKey.job(j.id()), j.withStatus(Job.Status.INVALID));
  }

  /** Slashes every verifier that attested a root shown wrong; returns the total taken. */
  private long slashAttesters(StateRecord.Check c) {
    long total = 0;
    for (Address v : c.attesters()) {
      total = Math.addExact(total, slashStake(v));
    }
    return total;
  }

  // ---- the dispute game ----

  private Hash challenge(Address from, Action.Challenge ch) throws TransactionRejected {
    requireOptimistic();
    Job j = job(ch.job());
    StateRecord.Check c = check(j);
    if (from.equals(c.worker())) {
      throw reject(NOT_AUTHORIZED, "the worker of job " + j.id() + " cannot challenge its own commitment");
    }
    if (j.status() != Job.Status.SETTLED && j.status() != Job.Status.CHALLENGED) {
      throw reject(WRONG_STATE, "job " + j.id() + " is " + j.status().label() + "; only settled jobs can be challenged");
    }
    if (height > windowEnd(c)) {
      throw reject(WRONG_STATE, "the challenge window of job " + j.id() + " closed at block " + windowEnd(c)
          + "; this is block " + height);
    }
    Hash id = Action.Challenge.disputeId(j.id(), from);
    if (read(StateKey.dispute(id)) != null) {
      throw reject(ALREADY_EXISTS, from + " has already challenged job " + j.id() + " (dispute " + id + ")");
    }
    if (ch.bond() < config.minChallengeBond()) {
      throw reject(INVALID_ARGUMENT, "bond " + ch.bond() + " is below the minimum of " + config.minChallengeBond());
    }
    TraceCommitment t = c.trace();
    boolean sameRoot = ch.root().equals(t.root());
    if (sameRoot && ch.steps() != t.steps()) {
      throw reject(INVALID_ARGUMENT, "the challenge names the committed root with " + ch.steps()
          + " steps, but it has " + t.steps() + "; one root has one step count");
    }
    debit(from, ch.bond(), "the challenge bond");
    StateRecord.Dispute.Phase phase;
    StateRecord.Dispute.Claim claim = sameRoot ? StateRecord.Dispute.Claim.OUTPUTS : StateRecord.Dispute.Claim.TRACE;
    String verdict = "";
    int steps = t.steps();
    int to = steps;
    if (ch.steps() != t.steps()) {
      int n = refereeSteps(j.model());
      phase = t.steps() == n ? StateRecord.Dispute.Phase.WORKER_WON : StateRecord.Dispute.Phase.CHALLENGER_WON;
      verdict = "the model has " + n + " steps; the worker committed " + t.steps() + ", the challenger "
          + ch.steps();
    } else if (sameRoot || steps == 1) {
      phase = StateRecord.Dispute.Phase.WORKER_PROVE;
    } else {
      phase = StateRecord.Dispute.Phase.WORKER_BISECT;
    }
    StateRecord.Dispute d = new StateRecord.Dispute(id, j.id(), c.worker(), from, ch.bond(), claim, t.root(),
        ch.root(), steps, 0, to, t.root(), ch.root(), Optional.empty(), Optional.empty(), phase,
        Math.addExact(timeMillis, config.disputeMoveMillis()), 0, height, 0, verdict);
    if (phase.decided()) {
      decide(d, j, c, phase, verdict, true);
    } else {
      write(StateKey.dispute(id), d);
      expose(c.worker(), 0, 1, 0);
      write(StateKey.check(j.id()), c.with(c.seed(), c.sample(), c.attesters(), c.checkPool(),
          Math.addExact(c.openDisputes(), 1)));
      write(StateKey.job(j.id()), j.withStatus(Job.Status.CHALLENGED));
    }
    return id;
  }

  private int refereeSteps(Cid model) throws TransactionRejected {
    try {
      return referee.steps(model);
    } catch (DisputeReferee.Unavailable e) {
      throw reject(REFEREE_UNAVAILABLE, e.getMessage());
    } catch (RuntimeException e) {
      throw reject(REFEREE_UNAVAILABLE, "the referee failed: " + e);
    }
  }

  private StateRecord.Dispute openDispute(Hash id) throws TransactionRejected {
    StateRecord.Dispute d = (StateRecord.Dispute) read(StateKey.dispute(id));
    if (d == null) {
      throw reject(NOT_FOUND, "no dispute " + id);
    }
    if (d.phase().decided()) {
      throw reject(WRONG_STATE, "dispute " + id + " is already decided: " + d.phase().label()
          + (d.verdict().isEmpty() ? "" : " (" + d.verdict() + ")"));
    }
    return d;
  }

  /**
   * If another dispute (or a reveal) already made the job invalid, the dispute is void: the
   * challenger gets its bond back. Returns whether it was voided.
   */
  private boolean voidIfMoot(StateRecord.Dispute d) throws TransactionRejected {
    Job j = job(d.job());
    if (j.status() != Job.Status.INVALID) {
      return false;
    }
    decide(d, j, check(j), StateRecord.Dispute.Phase.VOID, "the job was already found invalid", false);
    return true;
  }

  private void requireMover(StateRecord.Dispute d, Address from, StateRecord.Dispute.Phase phase, String move)
      throws TransactionRejected {
    Address mover = d.phase() == StateRecord.Dispute.Phase.CHALLENGER_BISECT ? d.challenger() : d.worker();
    if (!from.equals(d.worker()) && !from.equals(d.challenger())) {
      throw reject(NOT_AUTHORIZED, from + " is not a party to dispute " + d.id());
    }
    if (d.phase() != phase) {
      throw reject(WRONG_STATE, "dispute " + d.id() + " waits for " + describe(d) + ", not " + move);
    }
    if (!from.equals(mover)) {
      throw reject(NOT_AUTHORIZED, "it is not " + from + "'s turn in dispute " + d.id() + "; it waits for " + describe(d));
    }
    if (timeMillis > d.deadlineMillis()) {
      throw reject(WRONG_STATE, "the move in dispute " + d.id() + " was due by block time " + d.deadlineMillis()
          + "; this block's time is " + timeMillis + ": the move is late, send a Timeout");
    }
  }

  private static String describe(StateRecord.Dispute d) {
    return switch (d.phase()) {
      case WORKER_BISECT -> "the worker's bisection of steps " + d.from() + ".." + (d.to() - 1);
      case CHALLENGER_BISECT -> "the challenger's bisection of steps " + d.from() + ".." + (d.to() - 1);
      case WORKER_PROVE -> d.claim() == StateRecord.Dispute.Claim.OUTPUTS
          ? "the worker's opening of the output steps" : "the worker's proof of step " + d.step();
      default -> "nothing (decided)";
    };
  }

  /** RFC 6962 interior node hash, as {@code dev.verity.core.merkle.MerkleTree} computes it. */
  static Hash nodeHash(Hash left, Hash right) {
    java.security.MessageDigest md = Hash.newDigest();
    md.update((byte) 1);
    left.updateDigest(md);
    right.updateDigest(md);
    return Hash.fromDigest(md);
  }

  private void bisect(Address from, Action.Bisect b) throws TransactionRejected {
    StateRecord.Dispute d = openDispute(b.dispute());
    if (voidIfMoot(d)) {
      return;
    }
    StateRecord.Dispute.Phase phase = d.phase() == StateRecord.Dispute.Phase.CHALLENGER_BISECT
        ? StateRecord.Dispute.Phase.CHALLENGER_BISECT : StateRecord.Dispute.Phase.WORKER_BISECT;
    requireMover(d, from, phase, "a bisection");
    boolean byWorker = phase == StateRecord.Dispute.Phase.WORKER_BISECT;
    Hash own = byWorker ? d.workerNode() : d.challengerNode();
    if (!nodeHash(b.left(), b.right()).equals(own)) {
      throw reject(INVALID_ARGUMENT, "H(0x01 || left || right) is not " + (byWorker ? "the worker's" : "the challenger's")
          + " hash " + own + " of steps " + d.from() + ".." + (d.to() - 1) + " in dispute " + d.id());
    }
    long deadline = Math.addExact(timeMillis, config.disputeMoveMillis());
    if (byWorker) {
      write(StateKey.dispute(d.id()), new StateRecord.Dispute(d.id(), d.job(), d.worker(), d.challenger(), d.bond(),
          d.claim(), d.workerRoot(), d.challengerRoot(), d.steps(), d.from(), d.to(), d.workerNode(),
          d.challengerNode(), Optional.of(b.left()), Optional.of(b.right()),
          StateRecord.Dispute.Phase.CHALLENGER_BISECT, deadline, d.moves() + 1, d.openedHeight(), 0, ""));
      return;
    }
    Hash wl = d.workerLeft().orElseThrow();
    Hash wr = d.workerRight().orElseThrow();
    int k = Integer.highestOneBit(d.to() - d.from() - 1);
    int from2;
    int to2;
    Hash w;
    Hash c;
    if (!wl.equals(b.left())) {
      from2 = d.from();
      to2 = d.from() + k;
      w = wl;
      c = b.left();
    } else if (!wr.equals(b.right())) {
      from2 = d.from() + k;
      to2 = d.to();
      w = wr;
      c = b.right();
    } else {
      throw new IllegalStateException("dispute " + d.id() + ": equal children under different hashes");
    }
    StateRecord.Dispute.Phase next = to2 - from2 == 1
        ? StateRecord.Dispute.Phase.WORKER_PROVE : StateRecord.Dispute.Phase.WORKER_BISECT;
    write(StateKey.dispute(d.id()), new StateRecord.Dispute(d.id(), d.job(), d.worker(), d.challenger(), d.bond(),
        d.claim(), d.workerRoot(), d.challengerRoot(), d.steps(), from2, to2, w, c, Optional.empty(),
        Optional.empty(), next, deadline, d.moves() + 1, d.openedHeight(), 0, ""));
  }

  /** A step proof sent inline ({@code inline}) or named by its blob ({@code blob}); exactly one is present. */
  private void proveStep(Address from, Hash dispute, Optional<byte[]> inline, Optional<Cid> blob)
      throws TransactionRejected {
    StateRecord.Dispute d = openDispute(dispute);
    if (voidIfMoot(d)) {
      return;
    }
    requireMover(d, from, StateRecord.Dispute.Phase.WORKER_PROVE, "a step proof");
    Job j = job(d.job());
    StateRecord.Check c = check(j);
    StateRecord.Dispute moved = new StateRecord.Dispute(d.id(), d.job(), d.worker(), d.challenger(), d.bond(),
        d.claim(), d.workerRoot(), d.challengerRoot(), d.steps(), d.from(), d.to(), d.workerNode(),
        d.challengerNode(), Optional.empty(), Optional.empty(), d.phase(), d.deadlineMillis(), d.moves() + 1,
        d.openedHeight(), 0, "");
    try {
      byte[] opening = inline.isPresent() ? inline.get() : referee.openingBlob(blob.orElseThrow());
      if (d.claim() == StateRecord.Dispute.Claim.OUTPUTS) {
        referee.verifyOutputs(j.model(), c.trace(), opening);
      } else {
        referee.verifyStep(j.model(), c.trace(), d.step(), opening);
      }
    } catch (DisputeReferee.Unavailable e) {
      throw reject(REFEREE_UNAVAILABLE, e.getMessage());
    } catch (RuntimeException e) {
      // A referee failure is no verdict: nobody is punished for it, the move can be sent again.
      throw reject(REFEREE_UNAVAILABLE, "the referee failed: " + e);
    } catch (VerificationException e) {
      decide(moved, j, c, StateRecord.Dispute.Phase.CHALLENGER_WON, "referee: " + e.getMessage(), false);
      return;
    }
    decide(moved, j, c, StateRecord.Dispute.Phase.WORKER_WON,
        d.claim() == StateRecord.Dispute.Claim.OUTPUTS ? "referee: the outputs match the trace"
            : "referee: step " + d.step() + " recomputes to the committed output", false);
  }

  private void timeout(Action.Timeout t) throws TransactionRejected {
    StateRecord.Dispute d = openDispute(t.dispute());
    if (voidIfMoot(d)) {
      return;
    }
    if (timeMillis <= d.deadlineMillis()) {
      throw reject(WRONG_STATE, "dispute " + d.id() + " waits for " + describe(d) + " until block time "
          + d.deadlineMillis() + "; this block's time is " + timeMillis);
    }
    Job j = job(d.job());
    boolean workerLate = d.phase() != StateRecord.Dispute.Phase.CHALLENGER_BISECT;
    decide(d, j, check(j),
        workerLate ? StateRecord.Dispute.Phase.CHALLENGER_WON : StateRecord.Dispute.Phase.WORKER_WON,
        "timeout: " + describe(d) + " was not made by block time " + d.deadlineMillis(), false);
  }

  /**
   * Ends a dispute: pays out by the outcome and updates the job. {@code fresh}: the dispute is
   * being opened and decided in the same transaction (never counted as open).
   */
  private void decide(StateRecord.Dispute d, Job j, StateRecord.Check c, StateRecord.Dispute.Phase outcome,
      String verdict, boolean fresh) {
    int open = fresh ? c.openDisputes() : c.openDisputes() - 1;
    if (open < 0) {
      throw new IllegalStateException("job " + j.id() + " has no open dispute to close");
    }
    long slashed = 0;
    long pool = c.checkPool();
    Job.Status status = j.status();
    if (outcome == StateRecord.Dispute.Phase.CHALLENGER_WON && status == Job.Status.INVALID) {
      outcome = StateRecord.Dispute.Phase.VOID;
      verdict = "the job was already found invalid";
    }
    switch (outcome) {
      case WORKER_WON -> credit(d.worker(), d.bond());
      case VOID -> credit(d.challenger(), d.bond());
      case CHALLENGER_WON -> {
        slashed = punishWorker(j, d.worker(), d.challenger(), d.bond());
        long fromAttesters = slashAttesters(c);
        long reward = Fields.share(fromAttesters, config.challengerRewardBps());
        credit(d.challenger(), reward);
        burn(fromAttesters - reward);
        slashed = Math.addExact(slashed, fromAttesters);
        credit(j.client(), pool);
        pool = 0;
        status = Job.Status.INVALID;
        release(j, c);
      }
      default -> throw new IllegalStateException("not an outcome: " + outcome);
    }
    if (!fresh) {
      expose(d.worker(), 0, -1, 0);
    }
    if (status == Job.Status.CHALLENGED && open == 0) {
      status = Job.Status.SETTLED;
    }
    if (verdict.length() > StateRecord.Dispute.MAX_VERDICT_CHARS) {
      verdict = verdict.substring(0, StateRecord.Dispute.MAX_VERDICT_CHARS - 3) + "...";
    }
    write(StateKey.dispute(d.id()), new StateRecord.Dispute(d.id(), d.job(), d.worker(), d.challenger(), d.bond(),
        d.claim(), d.workerRoot(), d.challengerRoot(), d.steps(), d.from(), d.to(), d.workerNode(),
        d.challengerNode(), Optional.empty(), Optional.empty(), outcome, d.deadlineMillis(), d.moves(),
        d.openedHeight(), slashed, verdict));
    write(StateKey.check(j.id()), c.with(c.seed(), c.sample(), c.attesters(), pool, open));
    if (status != j.status()) {
      write(StateKey.job(j.id()), j.withStatus(status));
    }
  }
}
