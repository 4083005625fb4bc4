package dev.verity.ledger;

import dev.verity.core.Cid;
import dev.verity.core.VerificationException;
import dev.verity.core.crypto.Signer;
import dev.verity.core.merkle.MerkleTree;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The embedded ledger: one sequencer orders transactions into signed blocks.
 *
 * <p><b>Pipeline.</b> {@link #submit} queues a transaction and starts checking its signature on a
 * pool of verifier threads; each takes the submissions waiting (up to {@code signatureBatch}) and
 * checks their Ed25519 signatures as one batch ({@code BatchVerifier}), with the same verdict and
 * rejection message for each transaction as checking it alone (after a batch with a bad signature,
 * the next four batches' worth are checked one by one, so that bad signatures cannot make checking
 * slower than without batches). The sequencer thread takes queued
 * transactions in submission order until it has {@code maxBlockTransactions} or {@code maxBlockDelay} has passed since the first,
 * applies them to its head state (dropping and failing rejected ones), seals the block under a
 * signed header and hands it to the commit thread. The commit thread appends every block waiting
 * for it to the store, makes them durable with one sync (group commit), publishes the new state to
 * readers, then acknowledges the blocks' transactions on a separate thread and wakes subscribers.
 * While one group is being synced the sequencer already builds the next block.
 *
 * <p><b>Recovery.</b> On open, block 0 in the store must be this genesis' block. The newest intact
 * snapshot (if any) is loaded and the blocks after it are re-executed; each must reproduce its
 * signed state root, otherwise the ledger refuses to start ({@link CorruptLedgerException}).
 * Signatures of logged transactions are not re-checked: they were checked before being logged and
 * each record is checksummed.
 *
 * <p><b>Failure.</b> If storage fails or the state machine hits a broken invariant, the ledger
 * stops: every pending and future submission fails with reason {@code UNAVAILABLE}; what was
 * acknowledged stays committed. Restart it to recover.
 *
 * <p>Callbacks attached to submission futures run on the ledger's acknowledgement thread (or the
 * sequencer thread for rejections); keep them short and never block on another submission there.
 */
public final class SequencerLedger implements Ledger {
  private static final System.Logger LOG = System.getLogger(SequencerLedger.class.getName());
  private static final int RECENT_BLOCKS = 16;

  /**
   * Tuning.
   *
   * @param maxBlockTransactions most transactions per block
   * @param maxBlockDelay longest a transaction waits for its block to fill
   * @param verifierThreads threads checking signatures ahead of the sequencer
   * @param signatureBatch most signatures one verifier thread checks together (Ed25519 batch
   *     verification); 1 checks each on its own
   * @param maxPending most submissions waiting; more fail with {@code UNAVAILABLE}
   * @param snapshotEveryBlocks blocks between state snapshots (file-backed ledgers)
   * @param segmentBytes size at which a new log segment is started
   * @param clock source of header times (block times: dispute deadlines are measured in them)
   * @param referee rules on dispute proofs ({@link DisputeReferee}); {@link DisputeReferee#NONE}
   *     for a ledger that settles no optimistic disputes. Recovery re-executes with it, so it must
   *     be able to rule on every proof in the log (it needs the same blobs).
   */
  public record Options(int maxBlockTransactions, Duration maxBlockDelay, int verifierThreads,
      int signatureBatch, int maxPending, long snapshotEveryBlocks, long segmentBytes, InstantSource clock,
      DisputeReferee referee) {
    public Options {
      if (maxBlockTransactions < 1 || maxBlockTransactions > Block.MAX_TRANSACTIONS) {
        throw new IllegalArgumentException("maxBlockTransactions must be in 1.." + Block.MAX_TRANSACTIONS);
      }
      if (maxBlockDelay.isNegative()) {
        throw new IllegalArgumentException("maxBlockDelay must not be negative");
      }
      if (verifierThreads < 1 || maxPending < 1 || snapshotEveryBlocks < 1) {
        throw new IllegalArgumentException("verifierThreads, maxPending and snapshotEveryBlocks must be positive");
      }
      if (signatureBatch < 1 || signatureBatch > 4096) {
        throw new IllegalArgumentException("signatureBatch must be in 1..4096, got " + signatureBatch);
      }
      if (segmentBytes < 4096) {
        throw new IllegalArgumentException("segmentBytes must be at least 4096");
      }
      Objects.requireNonNull(clock, "clock");
      Objects.requireNonNull(referee, "referee");
    }

    public Options(int maxBlockTransactions, Duration maxBlockDelay, int verifierThreads,
        int maxPending, long snapshotEveryBlocks, long segmentBytes, InstantSource clock) {
      this(maxBlockTransactions, maxBlockDelay, verifierThreads, TransactionSignatures.BATCH, maxPending,
          snapshotEveryBlocks, segmentBytes, clock, DisputeReferee.NONE);
    }

    public static Options defaults() {
      return new Options(2_000, Duration.ofMillis(5), Runtime.getRuntime().availableProcessors(),
          TransactionSignatures.BATCH, 200_000, 1_000, 64L << 20, InstantSource.system(), DisputeReferee.NONE);
    }

    public Options withMaxBlockTransactions(int n) {
      return new Options(n, maxBlockDelay, verifierThreads, signatureBatch, maxPending, snapshotEveryBlocks, segmentBytes, clock, referee);
    }

    public Options withMaxBlockDelay(Duration d) {
      return new Options(maxBlockTransactions, d, verifierThreads, signatureBatch, maxPending, snapshotEveryBlocks, segmentBytes, clock, referee);
    }

    public Options withSignatureBatch(int n) {
      return new Options(maxBlockTransactions, maxBlockDelay, verifierThreads, n, maxPending, snapshotEveryBlocks, segmentBytes, clock, referee);
    }

    public Options withVerifierThreads(int n) {
      return new Options(maxBlockTransactions, maxBlockDelay, n, signatureBatch, maxPending, snapshotEveryBlocks, segmentBytes, clock, referee);
    }

    public Options withMaxPending(int n) {
      return new Options(maxBlockTransactions, maxBlockDelay, verifierThreads, signatureBatch, n, snapshotEveryBlocks, segmentBytes, clock, referee);
    }

    public Options withSnapshotEveryBlocks(long n) {
      return new Options(maxBlockTransactions, maxBlockDelay, verifierThreads, signatureBatch, maxPending, n, segmentBytes, clock, referee);
    }

    public Options withSegmentBytes(long n) {
      return new Options(maxBlockTransactions, maxBlockDelay, verifierThreads, signatureBatch, maxPending, snapshotEveryBlocks, n, clock, referee);
    }

    public Options withClock(InstantSource c) {
      return new Options(maxBlockTransactions, maxBlockDelay, verifierThreads, signatureBatch, maxPending, snapshotEveryBlocks, segmentBytes, c, referee);
  }

    public Options withReferee(DisputeReferee r) {
      return new Options(maxBlockTransactions, maxBlockDelay, verifierThreads, signatureBatch, maxPending, snapshotEveryBlocks, segmentBytes, clock, r);
    }
  }

  /** A submission on its way through the pipeline. */
  private static final class Pending {
    final SignedTransaction tx;
    final CompletableFuture<Committed> result = new CompletableFuture<>();
    /** A {@link VerifiedTransaction} or the {@link TransactionRejected} for a bad signature. */
    final CompletableFuture<Object> verified = new CompletableFuture<>();

    Pending(SignedTransaction tx) {
      this.tx = tx;
    }

    void verify() {
      try {
        verified.complete(tx.verify());
      } catch (VerificationException e) {
        complete(e);
      } catch (RuntimeException e) {
        verified.complete(new TransactionRejected(TransactionRejected.Reason.MALFORMED, String.valueOf(e.getMessage())));
      }
    }

    /** Completes with a result of {@link TransactionSignatures#check}. */
    void complete(Object checked) {
      if (checked instanceof VerificationException e) {
        verified.complete(new TransactionRejected(TransactionRejected.Reason.BAD_SIGNATURE, e.getMessage()));
      } else {
        verified.complete(checked);
      }
    }
  }

  /** A sealed block on its way to storage, with the submissions it acknowledges. */
  private record Produced(Block block, LedgerState state, List<Pending> accepted, List<Committed> results) {}

  private static final Pending STOP = new Pending(null);
  private static final Produced END = new Produced(null, null, List.of(), List.of());

  private final GenesisConfig genesis;
  private final Signer signer;
  private final Options options;
  private final BlockStore store;
  private final LinkedBlockingQueue<Pending> incoming = new LinkedBlockingQueue<>();
  /** Submissions whose signature no verifier thread has taken yet, in submission order. */
  private final ConcurrentLinkedQueue<Pending> unverified = new ConcurrentLinkedQueue<>();
  /** Submissions to check one by one (no batch) since a batch last held a bad signature. */
  private final AtomicInteger checkAlone = new AtomicInteger();
  /** After a batch with a bad signature, this many batches' worth of submissions are checked alone. */
  private static final int CHECK_ALONE_AFTER_FAILURE = 4;
  /** Weights of batch signature verification. */
  private final SecureRandom random = new SecureRandom();
  /** Senders' keys with their batch-verification tables, shared by the verifier threads. */
  private final KnownKeys knownKeys = new KnownKeys(TransactionSignatures.KNOWN_KEYS);
  private final AtomicInteger waiting = new AtomicInteger();
  private final LinkedBlockingQueue<Produced> toCommit = new LinkedBlockingQueue<>(8);
  private final ExecutorService verifiers;
  private final ExecutorService acks;
  private final ExecutorService snapshots;
  private final Thread sequencerThread;
  private final Thread committerThread;
  private final BlockFeeds feeds =
      new BlockFeeds("verity-ledger-follower", () -> this.durable.height(), h -> List.of(block(h).orElseThrow()));
  private final ConcurrentHashMap<Long, Block> recent = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<Long, ReceiptIndex> receiptIndexes = new ConcurrentHashMap<>();
  private final Object lifecycle = new Object();
  private boolean closed;
  private volatile Throwable failure;
  private volatile CommittedView durable;
  private volatile boolean snapshotRunning;
  private long lastSnapshotHeight;
  // Owned by the sequencer thread.
  private LedgerState head;
  private BlockHeader headHeader;

  private SequencerLedger(GenesisConfig genesis, Signer signer, Options options, BlockStore store)
      throws IOException {
    this.genesis = genesis;
    this.signer = signer;
    this.options = options;
    this.store = store;
    recover();
    this.lastSnapshotHeight = durable.height();
    this.verifiers = Executors.newFixedThreadPool(options.verifierThreads(), daemon("verity-ledger-verify"));
    this.acks = Executors.newSingleThreadExecutor(daemon("verity-ledger-ack"));
    this.snapshots = Executors.newSingleThreadExecutor(daemon("verity-ledger-snapshot"));
    this.sequencerThread = daemon("verity-ledger-sequencer").newThread(this::runSequencer);
    this.committerThread = daemon("verity-ledger-commit").newThread(this::runCommitter);
    sequencerThread.start();
    committerThread.start();
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  /**
   * Opens the durable ledger in {@code dir}, creating it at genesis if empty, recovering it
   * otherwise.
   *
   * @throws CorruptLedgerException if the log is damaged beyond a torn last write
   * @throws IOException if the directory cannot be used (for example another process holds it)
   * @throws IllegalArgumentException if {@code sequencer} is not the genesis sequencer key, or the
   *     directory holds another chain
   */
  public static SequencerLedger open(Path dir, GenesisConfig genesis, Signer sequencer, Options options)
      throws IOException {
    Chain.requireSequencer(genesis, sequencer);
    FileBlockStore store = FileBlockStore.open(dir, options.segmentBytes());
    try {
      return new SequencerLedger(genesis, sequencer, options, store);
    } catch (IOException | RuntimeException e) {
      store.close();
      throw e;
    }
  }

  /** A ledger that behaves the same but keeps everything in memory; nothing survives the process. */
  public static SequencerLedger inMemory(GenesisConfig genesis, Signer sequencer, Options options) {
    Chain.requireSequencer(genesis, sequencer);
    try {
      return new SequencerLedger(genesis, sequencer, options, new MemoryBlockStore());
    } catch (IOException e) {
      throw new UncheckedIOException("an in-memory store does no I/O", e);
    }
  }

  private void recover() throws IOException {
    Block genesisBlock = Chain.genesisBlock(genesis, signer);
    if (store.lastHeight() < 0) {
      store.append(genesisBlock);
      store.sync();
    } else if (!store.read(0).header().equals(genesisBlock.header())) {
      throw new IllegalArgumentException("the ledger's storage holds another chain (block 0 is "
          + store.read(0).header().hash() + ", this genesis gives " + genesisBlock.header().hash() + ")");
    }
    long last = store.lastHeight();
    BlockHeader header = genesisBlock.header();
    LedgerState state = LedgerState.genesis(genesis);
    Optional<BlockStore.Snapshot> snap = store.loadSnapshot(genesis);
    if (snap.isPresent()) {
      header = snap.get().header();
      state = snap.get().state();
    }
    for (long h = header.height() + 1; h <= last; h++) {
      Block b = store.read(h);
      try {
        state = Chain.applyTrusted(state, header, b, options.referee());
      } catch (VerificationException e) {
        throw new CorruptLedgerException("block " + h + " in the log does not re-execute: " + e.getMessage()
            + ". The ledger will not start: restore this directory from a backup or replica.", e);
      }
      header = b.header();
    }
    head = state;
    headHeader = header;
    durable = new CommittedView(header, state);
  }

  // ---- the Ledger API ----

  @Override
  public GenesisConfig genesis() {
    return genesis;
  }

  @Override
  public CompletableFuture<Committed> submit(SignedTransaction tx) {
    Objects.requireNonNull(tx, "tx");
    if (tx.size() > SignedTransaction.MAX_BYTES) {
      return CompletableFuture.failedFuture(new TransactionRejected(TransactionRejected.Reason.MALFORMED,
          "transaction of " + tx.size() + " bytes exceeds " + SignedTransaction.MAX_BYTES));
    }
    Pending p = new Pending(tx);
    synchronized (lifecycle) {
      if (closed || failure != null) {
        return unavailable(closed ? "the ledger is closed" : "the ledger has failed: " + failure);
      }
      if (waiting.incrementAndGet() > options.maxPending()) {
        waiting.decrementAndGet();
        return unavailable("the ledger is overloaded (" + options.maxPending() + " transactions waiting); retry later");
      }
      unverified.add(p);
      try {
        verifiers.execute(this::verifyWaiting);
      } catch (RejectedExecutionException e) {
        waiting.decrementAndGet();
        return unavailable("the ledger is shutting down");
      }
      incoming.add(p);
    }
    return p.result;
  }

  /**
   * Runs on a verifier thread: takes up to {@code signatureBatch} submissions waiting for their
   * signature check and checks them as one batch. Each submission queues one such task, so every
   * submission is taken by some task; under load one task takes many and the rest find none.
   */
  private void verifyWaiting() {
    List<Pending> group = new ArrayList<>();
    Pending p;
    while (group.size() < options.signatureBatch() && (p = unverified.poll()) != null) {
      group.add(p);
    }
    if (group.size() <= 1 || checkAlone.get() > 0) {
      group.forEach(Pending::verify);
      int n = group.size();
      checkAlone.updateAndGet(c -> Math.max(0, c - n));
      return;
    }
    List<SignedTransaction> txs = new ArrayList<>(group.size());
    for (Pending g : group) {
      txs.add(g.tx);
    }
    List<Object> checked;
    try {
      checked = TransactionSignatures.check(txs, random, knownKeys);
    } catch (RuntimeException e) {
      group.forEach(Pending::verify);
      return;
    } catch (Error e) {
      // Never leave the sequencer waiting on a check that will not come.
      for (Pending g : group) {
        g.verified.complete(new TransactionRejected(TransactionRejected.Reason.MALFORMED,
            "its signature could not be checked: " + e));
      }
      throw e;
    }
    boolean failed = false;
    for (int i = 0; i < group.size(); i++) {
      group.get(i).complete(checked.get(i));
      failed |= checked.get(i) instanceof VerificationException;
    }
    if (failed) {
      // A bad signature made this batch's combined check wasted work; checking the next few
      // batches' worth alone bounds what a stream of bad signatures can cost below that of
      // checking every signature alone.
      checkAlone.set(CHECK_ALONE_AFTER_FAILURE * options.signatureBatch());
    }
  }

  private static CompletableFuture<Committed> unavailable(String why) {
    return CompletableFuture.failedFuture(new TransactionRejected(TransactionRejected.Reason.UNAVAILABLE, why));
  }

  @Override
  public LedgerView view() {
    return durable;
  }

  @Override
  public Optional<Block> block(long height) {
    if (height < 0 || height > durable.height()) {
      return Optional.empty();
    }
    Block b = recent.get(height);
    if (b != null) {
      return Optional.of(b);
    }
    try {
      return Optional.of(store.read(height));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read block " + height, e);
    }
  }

  @Override
  public Optional<ReceiptProof> receiptProof(Cid receipt) {
    LedgerView v = durable;
    Optional<StateRecord.Receipt> r = v.receipt(receipt);
    if (r.isEmpty()) {
      return Optional.empty();
    }
    ReceiptIndex index = receiptIndexes.get(r.get().height());
    if (index == null) {
      index = new ReceiptIndex(block(r.get().height()).orElseThrow());
      if (receiptIndexes.size() >= RECENT_BLOCKS) {
        receiptIndexes.clear();
      }
      receiptIndexes.put(r.get().height(), index);
    }
    Integer i = index.positions.get(receipt);
    if (i == null) {
      throw new IllegalStateException("receipt " + receipt + " is in the state but not in block " + r.get().height());
    }
    return Optional.of(new ReceiptProof(index.header, index.entries.get(i), index.tree.prove(i)));
  }

  /** A block's receipts tree and where each receipt sits in it. */
  private static final class ReceiptIndex {
    final BlockHeader header;
    final MerkleTree tree;
    final java.util.Map<Cid, Integer> positions = new java.util.HashMap<>();
    final List<Action.CommitReceipts.Entry> entries = new ArrayList<>();

    ReceiptIndex(Block b) {
      this.header = b.header();
      this.tree = MerkleTree.ofLeaves(b.receiptLeaves());
      int i = 0;
      for (SignedTransaction t : b.transactions()) {
        if (t.tx().action() instanceof Action.CommitReceipts c) {
          for (Action.CommitReceipts.Entry e : c.receipts()) {
            positions.put(e.receipt(), i++);
            entries.add(e);
          }
        }
      }
    }
  }

  @Override
  public Subscription subscribe(long fromHeight, Consumer<Block> listener) {
    return feeds.subscribe(fromHeight, listener);
  }

  // ---- sequencer thread ----

  private void runSequencer() {
    List<Pending> batch = new ArrayList<>();
    long maxDelay = options.maxBlockDelay().toNanos();
    boolean stop = false;
    try {
      while (!stop && failure == null) {
        // Sampling seeds, challenge windows, reveal periods and unbonding releases count blocks:
        // while one is ahead, the chain keeps moving with empty blocks every maxBlockDelay even
        // when idle.
        Pending first = head.deadlinesPending()
            ? incoming.poll(Math.max(maxDelay, 1_000_000), TimeUnit.NANOSECONDS) : incoming.take();
        if (first == null) {
          batch.clear();
          produce(batch);
          continue;
        }
        if (first == STOP) {
          break;
        }
        batch.clear();
        batch.add(first);
        long deadline = System.nanoTime() + maxDelay;
        while (batch.size() < options.maxBlockTransactions()) {
          Pending p = incoming.poll();
          if (p == null) {
            long wait = deadline - System.nanoTime();
            if (wait <= 0 || (p = incoming.poll(wait, TimeUnit.NANOSECONDS)) == null) {
              break;
            }
          }
          if (p == STOP) {
            stop = true;
            break;
          }
          batch.add(p);
        }
        waiting.addAndGet(-batch.size());
        produce(batch);
      }
    } catch (InterruptedException e) {
      fail(e);
    } catch (Throwable t) {
      fail(t);
      for (Pending p : batch) {
        p.result.completeExceptionally(unavailableError());
      }
    } finally {
      List<Pending> left = new ArrayList<>();
      incoming.drainTo(left);
      for (Pending p : left) {
        if (p != STOP) {
          p.result.completeExceptionally(unavailableError());
        }
      }
      putUninterruptibly(END);
    }
  }

  private TransactionRejected unavailableError() {
    Throwable f = failure;
    return new TransactionRejected(TransactionRejected.Reason.UNAVAILABLE,
        f != null ? "the ledger has failed: " + f : "the ledger is closed");
  }

  private void produce(List<Pending> batch) throws InterruptedException {
    long time = Math.max(options.clock().millis(), headHeader.timeMillis());
    BlockExecution exec = head.begin(head.height() + 1, headHeader.hash(), time, options.referee());
    List<Pending> accepted = new ArrayList<>(batch.size());
    List<Committed> results = new ArrayList<>(batch.size());
    List<Pending> rejected = new ArrayList<>();
    List<TransactionRejected> reasons = new ArrayList<>();
    for (Pending p : batch) {
      Object v = p.verified.join();
      if (v instanceof TransactionRejected r) {
        rejected.add(p);
        reasons.add(r);
        continue;
      }
      try {
        results.add(exec.apply((VerifiedTransaction) v));
        accepted.add(p);
      } catch (TransactionRejected r) {
        rejected.add(p);
        reasons.add(r);
      }
    }
    if (!rejected.isEmpty()) {
      acknowledge(() -> {
        for (int i = 0; i < rejected.size(); i++) {
          rejected.get(i).result.completeExceptionally(reasons.get(i));
        }
      });
    }
    if (accepted.isEmpty() && !head.deadlinesPending()) {
      return;
    }
    LedgerState next = exec.finish();
    Block block = Chain.seal(exec, next, headHeader, signer);
    head = next;
    headHeader = block.header();
    toCommit.put(new Produced(block, next, accepted, results));
  }

  private void acknowledge(Runnable r) {
    try {
      acks.execute(r);
    } catch (RejectedExecutionException e) {
      r.run();
    }
  }

  // ---- commit thread ----

  private void runCommitter() {
    List<Produced> group = new ArrayList<>();
    boolean end = false;
    while (!end) {
      group.clear();
      try {
        group.add(toCommit.take());
      } catch (InterruptedException e) {
        fail(e);
        continue;
      }
      toCommit.drainTo(group);
      if (group.getLast() == END) {
        group.removeLast();
        end = true;
      }
      if (group.isEmpty()) {
        continue;
      }
      if (failure != null) {
        failAll(group);
        continue;
      }
      try {
        for (Produced p : group) {
          store.append(p.block());
        }
        store.sync();
      } catch (Throwable t) {
        fail(t);
        failAll(group);
        continue;
      }
      for (Produced p : group) {
        recent.put(p.block().height(), p.block());
        recent.remove(p.block().height() - RECENT_BLOCKS);
        durable = new CommittedView(p.block().header(), p.state());
      }
      List<Produced> done = List.copyOf(group);
      acknowledge(() -> {
        for (Produced p : done) {
          for (int i = 0; i < p.accepted().size(); i++) {
            p.accepted().get(i).result.complete(p.results().get(i));
          }
        }
      });
      feeds.wake();
      maybeSnapshot();
    }
  }

  private void failAll(List<Produced> group) {
    TransactionRejected err = unavailableError();
    for (Produced p : group) {
      for (Pending pending : p.accepted()) {
        pending.result.completeExceptionally(err);
      }
    }
  }

  private void maybeSnapshot() {
    CommittedView v = durable;
    if (store instanceof MemoryBlockStore || snapshotRunning
        || v.height() - lastSnapshotHeight < options.snapshotEveryBlocks()) {
      return;
    }
    snapshotRunning = true;
    lastSnapshotHeight = v.height();
    try {
      snapshots.execute(() -> {
        try {
          store.writeSnapshot(new BlockStore.Snapshot(v.header(), v.state()));
        } catch (IOException | RuntimeException e) {
          LOG.log(System.Logger.Level.WARNING, "state snapshot at block " + v.height()
              + " failed; recovery will replay more of the log", e);
        } finally {
          snapshotRunning = false;
        }
      });
    } catch (RejectedExecutionException e) {
      snapshotRunning = false;
    }
  }

  private void fail(Throwable t) {
    synchronized (lifecycle) {
      if (failure == null) {
        failure = t;
        LOG.log(System.Logger.Level.ERROR, "the ledger has stopped; restart it to recover", t);
      }
    }
    incoming.add(STOP);
  }

  private void putUninterruptibly(Produced p) {
    boolean interrupted = false;
    while (true) {
      try {
        toCommit.put(p);
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /** The reason the ledger stopped, if it did. */
  public Optional<Throwable> failure() {
    return Optional.ofNullable(failure);
  }

  @Override
  public void close() {
    synchronized (lifecycle) {
      if (closed) {
        return;
      }
      closed = true;
    }
    incoming.add(STOP);
    joinUninterruptibly(sequencerThread);
    joinUninterruptibly(committerThread);
    verifiers.shutdown();
    snapshots.shutdown();
    acks.shutdown();
    try {
      snapshots.awaitTermination(1, TimeUnit.MINUTES);
      acks.awaitTermination(1, TimeUnit.MINUTES);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    feeds.close();
    try {
      store.close();
    } catch (IOException e) {
      throw new UncheckedIOException("closing the ledger's storage failed", e);
    }
  }

  private static void joinUninterruptibly(Thread t) {
    boolean interrupted = false;
    while (t.isAlive()) {
      try {
        t.join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
