package dev.verity.ledger;

import dev.verity.core.Cid;
import dev.verity.core.Hash;
import dev.verity.core.VerificationException;
import dev.verity.core.crypto.Signer;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * Throughput and latency of the ledger on this machine; not a test. Run from the repository root:
 *
 * <pre>
 *   mvn -B -o -q test-compile -pl verity-ledger -am
 *   java -cp verity-ledger/target/test-classes:verity-ledger/target/classes:verity-core/target/classes:\
 *   $HOME/.m2/repository/org/bouncycastle/bcprov-jdk18on/1.82/bcprov-jdk18on-1.82.jar \
 *       dev.verity.ledger.LedgerBenchmark [transactions] [rounds]
 * </pre>
 *
 * Prints baselines measured in the same run (raw Ed25519 verification, raw 4 KiB write + fsync,
 * transaction signature checks one at a time against batches), then: signed transfers committed
 * durably per second through {@link SequencerLedger} (signatures checked one at a time, then in
 * batches, then in batches with every transaction decoded from bytes as the network delivers it), the same pipeline's state machine and log without signature checks, block production
 * latency, and state and receipt proof generation and verification times.
 */
public final class LedgerBenchmark {
  private LedgerBenchmark() {}

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 2;
    int cores = Runtime.getRuntime().availableProcessors();
    Path dir = Files.createTempDirectory("verity-ledger-bench");
    try {
      System.out.printf("machine: %d cores, Java %s%n", cores, Runtime.version());
      baselines(dir, cores);
      int accounts = 1_000;
      Signer[] signers = IntStream.range(0, accounts).parallel().mapToObj(i -> Fixtures.key(1_000 + i)).toArray(Signer[]::new);
      GenesisConfig.Builder gb = Fixtures.genesisBuilder();
      for (Signer s : signers) {
        gb.allocate(s.address(), 1_000_000_000L);
      }
      GenesisConfig genesis = gb.build();
      System.out.printf("signing %d transfers from %d accounts (not timed) ...%n", n, accounts);
      List<SignedTransaction> txs = transfers(signers, n, 0);
      signatureChecks(txs, cores);
      SequencerLedger.Options defaults = SequencerLedger.Options.defaults();
      // The three pipelines in turn, repeated, so that a shared machine's changing load hits all of them.
      for (int round = 0; round < rounds; round++) {
        committedThroughput(dir.resolve("ledger-single-" + round), genesis, txs, defaults.withSignatureBatch(1),
            "one signature at a time");
        committedThroughput(dir.resolve("ledger-" + round), genesis, txs, defaults,
            "batches of up to " + defaults.signatureBatch());
        List<SignedTransaction> decoded = txs.stream().map(t -> SignedTransaction.decode(t.encode())).toList();
        committedThroughput(dir.resolve("ledger-decoded-" + round), genesis, decoded, defaults,
            "batches of up to " + defaults.signatureBatch() + ", every tx decoded from bytes (own key object)");
        committedThroughput(dir.resolve("ledger-bad-" + round), genesis, withBadSignatures(txs, 100), defaults,
            "batches of up to " + defaults.signatureBatch() + ", one submission in 100 with a bad signature");
      }
      System.out.printf("load average at the end: %s%n", loadAverage());
      List<SignedTransaction> more = transfers(signers, n, n / accounts + 1);
      stateMachineAndLog(dir.resolve("raw"), genesis, more, signers);
      proofs();
    } finally {
      try (Stream<Path> walk = Files.walk(dir)) {
        walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  /** {@code txs} with a copy of every {@code every}-th, its signature altered, submitted just before it. */
  private static List<SignedTransaction> withBadSignatures(List<SignedTransaction> txs, int every) {
    List<SignedTransaction> out = new ArrayList<>();
    for (int i = 0; i < txs.size(); i++) {
      SignedTransaction t = txs.get(i);
      if (i % every == every / 2) {
        byte[] sig = t.signature();
        sig[i % 64] ^= 1;
        out.add(SignedTransaction.of(t.tx(), sig));
      }
      out.add(t);
    }
    return out;
  }

  private static List<SignedTransaction> transfers(Signer[] signers, int n, int firstNonce) {
    int accounts = signers.length;
    return IntStream.range(0, n).parallel().mapToObj(i -> {
      Signer s = signers[i % accounts];
      return new Transaction(Fixtures.CHAIN, s.publicKey(), firstNonce + i / accounts, 1,
          new Action.Transfer(signers[(i + 1) % accounts].address(), 1)).sign(s);
    }).toList();
  }

  private static void baselines(Path dir, int cores) throws Exception {
    Signer s = Fixtures.ALICE;
    byte[] msg = new byte[32];
    byte[] sig = s.sign(msg);
    for (int i = 0; i < 3_000; i++) {
      s.publicKey().verify(msg, sig);
    }
    int v = 6_000;
    long t = System.nanoTime();
    for (int i = 0; i < v; i++) {
      s.publicKey().verify(msg, sig);
    }
    double single = v / secondsSince(t);
    ExecutorService pool = Executors.newFixedThreadPool(cores);
    t = System.nanoTime();
    List<Future<?>> fs = new ArrayList<>();
    for (int c = 0; c < cores; c++) {
      fs.add(pool.submit(() -> {
        for (int i = 0; i < v / cores; i++) {
          s.publicKey().verify(msg, sig);
        }
        return null;
      }));
    }
    for (Future<?> f : fs) {
      f.get();
    }
    double parallel = (v / cores * cores) / secondsSince(t);
    pool.shutdown();
    System.out.printf("baseline Ed25519 verify (PublicKey.verify): %,.0f/s on 1 thread, %,.0f/s on %d threads%n", single, parallel, cores);
    Path f = dir.resolve("fsync-probe");
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      ByteBuffer buf = ByteBuffer.allocate(4096);
      int k = 500;
      t = System.nanoTime();
      for (int i = 0; i < k; i++) {
        buf.clear();
        ch.write(buf);
        ch.force(false);
      }
      System.out.printf("baseline append 4 KiB + fsync: %,.0f/s (%.2f ms each)%n", k / secondsSince(t), secondsSince(t) * 1e3 / k);
    }
  }

  /**
   * Signature checks alone, per transaction: {@link SignedTransaction#verify()} one at a time
   * against {@link TransactionSignatures#check} in batches, on one thread and on all cores.
   */
  private static void signatureChecks(List<SignedTransaction> txs, int cores) throws Exception {
    System.out.printf("load average before: %s%n", loadAverage());
    int batch = TransactionSignatures.BATCH;
    List<SignedTransaction> sample = txs.subList(0, Math.min(txs.size(), 8_192));
    java.security.SecureRandom random = new java.security.SecureRandom();
    KnownKeys keys = new KnownKeys(TransactionSignatures.KNOWN_KEYS);
    for (int round = 0; round < 2; round++) {
      double single = ratePerSecond(sample, 1, part -> {
        for (SignedTransaction t : part) {
          t.verify();
        }
      });
      double batched = ratePerSecond(sample, 1, part -> {
        for (int i = 0; i < part.size(); i += batch) {
          if (TransactionSignatures.check(part.subList(i, Math.min(part.size(), i + batch)), random, keys)
              .stream().anyMatch(r -> !(r instanceof VerifiedTransaction))) {
            throw new AssertionError("an honest signature failed");
          }
        }
      });
      double singleAll = ratePerSecond(sample, cores, part -> {
        for (SignedTransaction t : part) {
          t.verify();
        }
      });
      double batchedAll = ratePerSecond(sample, cores, part -> {
        for (int i = 0; i < part.size(); i += batch) {
          TransactionSignatures.check(part.subList(i, Math.min(part.size(), i + batch)), random, keys);
        }
      });
      System.out.printf("signature checks of %,d transfers%s: one at a time %,.0f/s (%.1f us each) vs batches of %d "
              + "%,.0f/s (%.1f us each, %.2fx) on 1 thread; on %d threads %,.0f/s vs %,.0f/s (%.2fx)%n",
          sample.size(), round == 0 ? " (first round, warming up)" : "", single, 1e6 / single, batch,
          batched, 1e6 / batched, batched / single, cores, singleAll, batchedAll, batchedAll / singleAll);
    }
  }

  private interface Work {
    void run(List<SignedTransaction> part) throws Exception;
  }

  private static double ratePerSecond(List<SignedTransaction> txs, int threads, Work work) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      int per = txs.size() / threads;
      long t = System.nanoTime();
      List<Future<?>> fs = new ArrayList<>();
      for (int c = 0; c < threads; c++) {
        List<SignedTransaction> part = txs.subList(c * per, (c + 1) * per);
        fs.add(pool.submit(() -> {
          work.run(part);
          return null;
        }));
      }
      for (Future<?> f : fs) {
        f.get();
      }
      return per * threads / secondsSince(t);
    } finally {
      pool.shutdown();
    }
  }

  private static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim();
    } catch (java.io.IOException e) {
      return "unknown";
    }
  }

  private static void committedThroughput(Path dir, GenesisConfig genesis, List<SignedTransaction> txs,
      SequencerLedger.Options base, String how) throws Exception {
    SequencerLedger.Options options = base
        .withMaxBlockTransactions(2_000).withMaxBlockDelay(Duration.ofMillis(5)).withSnapshotEveryBlocks(1_000_000);
    try (SequencerLedger ledger = SequencerLedger.open(dir, genesis, Fixtures.SEQUENCER, options)) {
      // Warm up the pipeline on a tenth of the load, then measure the rest.
      int warm = txs.size() / 10;
      submitAll(ledger, txs.subList(0, warm));
      long h0 = ledger.latestHeader().height();
      List<SignedTransaction> measured = txs.subList(warm, txs.size());
      long[] submittedAt = new long[measured.size()];
      long[] latency = new long[measured.size()];
      long t = System.nanoTime();
      List<CompletableFuture<Committed>> fs = new ArrayList<>(measured.size());
      for (int i = 0; i < measured.size(); i++) {
        submittedAt[i] = System.nanoTime();
        int idx = i;
        fs.add(ledger.submit(measured.get(i)).whenComplete((c, e) -> latency[idx] = System.nanoTime() - submittedAt[idx]));
      }
      int badSignatures = awaitAll(fs);
      double secs = secondsSince(t);
      long blocks = ledger.latestHeader().height() - h0;
      Arrays.sort(latency);
      int committed = measured.size() - badSignatures;
      System.out.printf("signed transfers durably committed (signatures checked on %d threads, %s): %,.0f/s "
              + "(%,d txs in %.2f s, %d blocks, %.0f txs/block)%s%n",
          options.verifierThreads(), how, committed / secs, committed, secs, blocks, (double) committed / blocks,
          badSignatures == 0 ? "" : String.format("; %,d bad signatures rejected", badSignatures));
      System.out.printf("  submit-to-acknowledgement latency of that burst (all submitted at once, so mostly"
              + " queueing): p50 %.0f ms, p99 %.0f ms%n",
          latency[latency.length / 2] / 1e6, latency[(int) (latency.length * 0.99)] / 1e6);
      // Light load: one transaction at a time.
      List<SignedTransaction> single = transfersAfter(ledger, 50);
      long[] lat = new long[single.size()];
      for (int i = 0; i < single.size(); i++) {
        long s = System.nanoTime();
        ledger.submit(single.get(i)).get(1, TimeUnit.MINUTES);
        lat[i] = System.nanoTime() - s;
      }
      Arrays.sort(lat);
      System.out.printf("  one transaction at a time: p50 %.2f ms, p99 %.2f ms (verify + block delay %d ms + fsync)%n",
          lat[lat.length / 2] / 1e6, lat[lat.length - 1] / 1e6, options.maxBlockDelay().toMillis());
    }
  }

  private static List<SignedTransaction> transfersAfter(Ledger ledger, int n) {
    Signer s = Fixtures.ALICE;
    long nonce = ledger.view().account(s.address()).nonce();
    List<SignedTransaction> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(new Transaction(Fixtures.CHAIN, s.publicKey(), nonce + i, 1, new Action.Transfer(Fixtures.BOB.address(), 1)).sign(s));
    }
    return out;
  }

  private static void submitAll(Ledger ledger, List<SignedTransaction> txs) throws Exception {
    List<CompletableFuture<Committed>> fs = new ArrayList<>();
    for (SignedTransaction tx : txs) {
      fs.add(ledger.submit(tx));
    }
    awaitAll(fs);
  }

  /** Waits for every submission; returns how many were rejected for a bad signature (others must commit). */
  private static int awaitAll(List<CompletableFuture<Committed>> fs) throws Exception {
    int bad = 0;
    for (CompletableFuture<Committed> f : fs) {
      try {
        f.get(10, TimeUnit.MINUTES);
      } catch (java.util.concurrent.ExecutionException e) {
        if (!(e.getCause() instanceof TransactionRejected r) || r.reason() != TransactionRejected.Reason.BAD_SIGNATURE) {
          throw e;
        }
        bad++;
      }
    }
    return bad;
  }

  /** The sequencer's work minus signature checks: apply, seal (sign header), append, fsync. */
  private static void stateMachineAndLog(Path dir, GenesisConfig genesis, List<SignedTransaction> signed, Signer[] signers)
      throws Exception {
    Map<dev.verity.core.crypto.Address, Signer> byAddress = new HashMap<>();
    for (Signer s : signers) {
      byAddress.put(s.address(), s);
    }
    List<VerifiedTransaction> txs = signed.stream().map(VerifiedTransaction::new).toList();
    // Nonces in this batch start where the first run's left off; replay a fresh chain to match.
    Map<dev.verity.core.crypto.Address, Long> first = new HashMap<>();
    for (VerifiedTransaction t : txs) {
      first.merge(t.sender(), t.tx().nonce(), Math::min);
    }
    LedgerState state = LedgerState.genesis(genesis);
    // Catch the accounts up to the nonces this batch starts with (not timed).
    BlockExecution catchUp = state.begin(1);
    for (Map.Entry<dev.verity.core.crypto.Address, Long> e : first.entrySet()) {
      Signer s = byAddress.get(e.getKey());
      for (long k = 0; k < e.getValue(); k++) {
        catchUp.apply(new VerifiedTransaction(SignedTransaction.of(
            new Transaction(Fixtures.CHAIN, s.publicKey(), k, 1, new Action.Transfer(Fixtures.BOB.address(), 1)), new byte[64])));
      }
    }
    state = catchUp.finish();
    Block genesisBlock = Chain.genesisBlock(genesis, Fixtures.SEQUENCER);
    BlockHeader prev = BlockHeader.sign(Fixtures.CHAIN, 1, genesisBlock.header().hash(), Hash.of(new byte[0]),
        Hash.of(new byte[0]), state.root(), 0, 0, 0, Fixtures.SEQUENCER);
    try (FileBlockStore store = FileBlockStore.open(dir, 64L << 20)) {
      store.append(genesisBlock);
      store.append(new Block(prev, List.of()));
      store.sync();
      int perBlock = 2_000;
      long applyNanos = 0;
      long sealNanos = 0;
      long syncNanos = 0;
      int blocks = 0;
      long t = System.nanoTime();
      for (int i = 0; i < txs.size(); i += perBlock) {
        long a = System.nanoTime();
        BlockExecution e = state.begin(state.height() + 1, prev.hash(), prev.timeMillis(), DisputeReferee.NONE);
        for (VerifiedTransaction v : txs.subList(i, Math.min(txs.size(), i + perBlock))) {
          e.apply(v);
        }
        LedgerState next = e.finish();
        long b = System.nanoTime();
        Block block = Chain.seal(e, next, prev, Fixtures.SEQUENCER);
        long c = System.nanoTime();
        store.append(block);
        store.sync();
        long d = System.nanoTime();
        applyNanos += b - a;
        sealNanos += c - b;
        syncNanos += d - c;
        state = next;
        prev = block.header();
        blocks++;
      }
      double secs = secondsSince(t);
      System.out.printf("state machine + log without signature checks (one thread): %,.0f transfers/s "
          + "(%d blocks of %d)%n", txs.size() / secs, blocks, perBlock);
      System.out.printf("  block production latency per %d-tx block: apply + state root %.1f ms, "
              + "seal (tx root + header signature) %.1f ms, append + fsync %.1f ms%n",
          perBlock, applyNanos / 1e6 / blocks, sealNanos / 1e6 / blocks, syncNanos / 1e6 / blocks);
    }
  }

  private static void proofs() throws Exception {
    // A bigger state: 99,000 accounts.
    GenesisConfig.Builder gb = Fixtures.genesisBuilder();
    for (int i = 0; i < 99_000; i++) {
      byte[] a = new byte[20];
      ByteBuffer.wrap(a).putInt(i);
      gb.allocate(dev.verity.core.crypto.Address.fromBytes(a), 1 + i);
    }
    LedgerState state = LedgerState.genesis(gb.build());
    Hash root = state.root();
    List<StateKey> keys = new ArrayList<>();
    for (int i = 0; i < 2_000; i++) {
      byte[] a = new byte[20];
      ByteBuffer.wrap(a).putInt(i * 37 % 99_000);
      keys.add(StateKey.account(dev.verity.core.crypto.Address.fromBytes(a)));
    }
    for (int r = 0; r < 3; r++) {
      for (StateKey k : keys) {
        state.prove(k).verify(root);
      }
    }
    long t = System.nanoTime();
    List<StateProof> ps = new ArrayList<>();
    for (StateKey k : keys) {
      ps.add(state.prove(k));
    }
    double gen = secondsSince(t) * 1e6 / keys.size();
    t = System.nanoTime();
    for (StateProof p : ps) {
      p.verify(root);
    }
    double ver = secondsSince(t) * 1e6 / keys.size();
    double depth = ps.stream().mapToInt(p -> p.siblings().size()).average().orElse(0);
    System.out.printf("state proof, %,d entries (mean depth %.1f, %d bytes): generate %.1f us, verify %.1f us%n",
        state.size(), depth, ps.get(0).encode().length, gen, ver);

    // Receipt inclusion: a block committing 512 receipts; proof from the ledger's API.
    try (SequencerLedger ledger = SequencerLedger.inMemory(Fixtures.genesis(), Fixtures.SEQUENCER,
        SequencerLedger.Options.defaults())) {
      Signer w = Fixtures.WORKER;
      ledger.submit(new Transaction(Fixtures.CHAIN, Fixtures.OWNER.publicKey(), 0, 1, new Action.RegisterModel(Fixtures.MODEL, 1)).sign(Fixtures.OWNER)).get();
      ledger.submit(new Transaction(Fixtures.CHAIN, w.publicKey(), 0, 1, Fixtures.node().build()).sign(w)).get();
      Hash job = ledger.submit(new Transaction(Fixtures.CHAIN, Fixtures.ALICE.publicKey(), 0, 1,
          new Action.OpenJob(Fixtures.MODEL, Optional.of(w.address()), 1_000, 100_000)).sign(Fixtures.ALICE)).get().created().orElseThrow();
      List<Action.CommitReceipts.Entry> entries = new ArrayList<>();
      for (int i = 0; i < Action.CommitReceipts.MAX_RECEIPTS; i++) {
        entries.add(new Action.CommitReceipts.Entry(job, Cid.raw(("r" + i).getBytes(StandardCharsets.UTF_8))));
      }
      ledger.submit(new Transaction(Fixtures.CHAIN, w.publicKey(), 1, 1, new Action.CommitReceipts(entries)).sign(w)).get();
      LightClient client = LightClient.of(ledger.genesis());
      for (int r = 0; r < 200; r++) {
        client.verifyReceipt(ledger.receiptProof(entries.get(r).receipt()).orElseThrow());
      }
      int k = 500;
      t = System.nanoTime();
      List<ReceiptProof> rps = new ArrayList<>();
      for (int i = 0; i < k; i++) {
        rps.add(ledger.receiptProof(entries.get(i).receipt()).orElseThrow());
      }
      double rgen = secondsSince(t) * 1e6 / k;
      t = System.nanoTime();
      for (ReceiptProof p : rps) {
        dev.verity.core.merkle.MerkleTree.verifyInclusion(p.header().receiptsRoot(), p.entry().leaf(), p.path());
      }
      double rpath = secondsSince(t) * 1e6 / k;
      t = System.nanoTime();
      for (ReceiptProof p : rps) {
        client.verifyReceipt(p);
      }
      double rclient = secondsSince(t) * 1e6 / k;
      t = System.nanoTime();
      for (ReceiptProof p : rps) {
        p.verify(Fixtures.SEQUENCER.publicKey());
      }
      double rfull = secondsSince(t) * 1e6 / k;
      System.out.printf("receipt proof (block of %d receipts): generate %.1f us; verify: path %.1f us, "
              + "light client with header already checked %.1f us, with header signature check %.1f us%n",
          entries.size(), rgen, rpath, rclient, rfull);
    } catch (VerificationException e) {
      throw new AssertionError(e);
    }
  }

  private static double secondsSince(long t) {
    return (System.nanoTime() - t) / 1e9;
  }

  static {
    // Keep the benchmark's own logging quiet.
    System.setProperty("java.util.logging.ConsoleHandler.level", "WARNING");
  }
}
