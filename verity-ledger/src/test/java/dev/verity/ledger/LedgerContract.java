package dev.verity.ledger;

import static dev.verity.ledger.Fixtures.ALICE;
import static dev.verity.ledger.Fixtures.BOB;
import static dev.verity.ledger.Fixtures.MODEL;
import static dev.verity.ledger.Fixtures.OWNER;
import static dev.verity.ledger.Fixtures.START;
import static dev.verity.ledger.Fixtures.VERIFIER;
import static dev.verity.ledger.Fixtures.WORKER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.Cid;
import dev.verity.core.Hash;
import dev.verity.core.VerificationException;
import dev.verity.core.crypto.Signer;
import dev.verity.core.merkle.MerkleProof;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every {@link Ledger} must show, run against each implementation by a subclass.
 */
abstract class LedgerContract {
  static final SequencerLedger.Options OPTIONS = SequencerLedger.Options.defaults()
      .withMaxBlockDelay(Duration.ofMillis(2)).withVerifierThreads(2).withMaxBlockTransactions(64);

  protected Ledger ledger;
  private final Map<Signer, Long> nonces = new HashMap<>();

  /** A fresh ledger at genesis. */
  abstract Ledger open(GenesisConfig genesis) throws Exception;

  @BeforeEach
  void start() throws Exception {
    ledger = open(Fixtures.genesis());
  }

  @AfterEach
  void stop() {
    ledger.close();
  }

  SignedTransaction signed(Signer s, Action a) {
    long n = nonces.merge(s, 1L, Long::sum) - 1;
    return new Transaction(Fixtures.CHAIN, s.publicKey(), n, 1, a).sign(s);
  }

  static Committed await(CompletableFuture<Committed> f) throws Exception {
    return f.get(60, TimeUnit.SECONDS);
  }

  Committed commit(Signer s, Action a) throws Exception {
    return await(ledger.submit(signed(s, a)));
  }

  static TransactionRejected rejection(CompletableFuture<Committed> f) throws Exception {
    ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(60, TimeUnit.SECONDS));
    return assertInstanceOf(TransactionRejected.class, e.getCause());
  }

  @Test
  void acknowledgesACommittedTransactionWithItsBlockAndPosition() throws Exception {
    SignedTransaction tx = signed(ALICE, new Action.Transfer(BOB.address(), 40));
    Committed c = await(ledger.submit(tx));
    assertEquals(tx.id(), c.txId());
    assertTrue(ledger.latestHeader().height() >= c.height());
    Block b = ledger.block(c.height()).orElseThrow();
    assertEquals(tx, b.transactions().get(c.index()));
    assertEquals(START - 41, ledger.view().account(ALICE.address()).balance());
    assertEquals(START + 40, ledger.view().account(BOB.address()).balance());
    assertEquals(Optional.empty(), ledger.block(ledger.latestHeader().height() + 1));
  }

  @Test
  void rejectsAMisSignedTransactionWithoutChangingState() throws Exception {
    Transaction tx = new Transaction(Fixtures.CHAIN, ALICE.publicKey(), 0, 1, new Action.Transfer(BOB.address(), 40));
    Hash root = ledger.view().header().stateRoot();
    TransactionRejected r = rejection(ledger.submit(SignedTransaction.of(tx, BOB.sign(tx.id().toBytes()))));
    assertEquals(TransactionRejected.Reason.BAD_SIGNATURE, r.reason());
    assertEquals(root, ledger.view().header().stateRoot());
    assertEquals(START, ledger.view().account(ALICE.address()).balance());
  }

  @Test
  void rejectsAReplayedTransaction() throws Exception {
    SignedTransaction tx = signed(ALICE, new Action.Transfer(BOB.address(), 40));
    await(ledger.submit(tx));
    assertEquals(TransactionRejected.Reason.BAD_NONCE, rejection(ledger.submit(tx)).reason());
    assertEquals(START + 40, ledger.view().account(BOB.address()).balance());
  }

  @Test
  void ofTwoTransactionsSpendingOneNonceExactlyOneCommits() throws Exception {
    SignedTransaction a = new Transaction(Fixtures.CHAIN, ALICE.publicKey(), 0, 1, new Action.Transfer(BOB.address(), START - 1)).sign(ALICE);
    SignedTransaction b = new Transaction(Fixtures.CHAIN, ALICE.publicKey(), 0, 1, new Action.Transfer(WORKER.address(), START - 1)).sign(ALICE);
    CompletableFuture<Committed> fa = ledger.submit(a);
    CompletableFuture<Committed> fb = ledger.submit(b);
    await(fa);
    assertEquals(TransactionRejected.Reason.BAD_NONCE, rejection(fb).reason());
    assertEquals(0, ledger.view().account(ALICE.address()).balance());
  }

  @Test
  void commitsConcurrentSubmissionsFromManyAccountsInSubmissionOrderPerAccount() throws Exception {
    List<Signer> senders = List.of(ALICE, BOB, WORKER, VERIFIER, OWNER);
    List<SignedTransaction> txs = new ArrayList<>();
    for (int round = 0; round < 20; round++) {
      for (Signer s : senders) {
        txs.add(signed(s, new Action.Transfer(senders.get((round + 1) % senders.size()).address(), 1 + round)));
      }
    }
    List<List<CompletableFuture<Committed>>> perSender = new ArrayList<>();
    List<Thread> threads = new ArrayList<>();
    for (Signer s : senders) {
      List<SignedTransaction> mine = txs.stream().filter(t -> t.tx().sender().equals(s.publicKey())).toList();
      List<CompletableFuture<Committed>> own = new ArrayList<>();
      perSender.add(own);
      threads.add(Thread.ofPlatform().start(() -> {
        for (SignedTransaction tx : mine) {
          own.add(ledger.submit(tx));
        }
      }));
    }
    List<CompletableFuture<Committed>> futures = new ArrayList<>();
    for (int i = 0; i < threads.size(); i++) {
      threads.get(i).join();
      futures.addAll(perSender.get(i));
    }
    for (CompletableFuture<Committed> f : futures) {
      Committed c = await(f);
      SignedTransaction inBlock = ledger.block(c.height()).orElseThrow().transactions().get(c.index());
      assertEquals(c.txId(), inBlock.id());
    }
    for (Signer s : senders) {
      assertEquals(20, ledger.view().account(s.address()).nonce());
    }
    LedgerView v = ledger.view();
    assertEquals(v.supply().total(), ((CommittedView) v).state().heldTotal());
  }

  @Test
  void subscribersSeeEveryBlockOnceInOrder() throws Exception {
    LinkedBlockingQueue<Block> seen = new LinkedBlockingQueue<>();
    try (Ledger.Subscription sub = ledger.subscribe(0, seen::add)) {
      Committed last = null;
      for (int i = 0; i < 5; i++) {
        last = commit(ALICE, new Action.Transfer(BOB.address(), 1));
      }
      long expected = 0;
      while (expected <= last.height()) {
        Block b = seen.poll(60, TimeUnit.SECONDS);
        assertEquals(expected, b.height(), "blocks out of order or repeated");
        expected++;
      }
    }
  }

  /** Waits, sending nothing, until block {@code height} has been sealed. */
  private void awaitIdleBlock(long height) throws Exception {
    LinkedBlockingQueue<Block> seen = new LinkedBlockingQueue<>();
    try (Ledger.Subscription sub = ledger.subscribe(0, seen::add)) {
      Block b;
      do {
        b = seen.poll(60, TimeUnit.SECONDS);
        assertTrue(b != null, "an idle chain stopped before block " + height);
      } while (b.height() < height);
    }
  }

  @Test
  void anIdleChainKeepsSealingBlocksUntilTheWindowClosesAndTheStakeIsReleased() throws Exception {
    commit(OWNER, new Action.RegisterModel(MODEL, 10));
    commit(WORKER, Fixtures.node().stake(2_000).build());
    Hash job = commit(ALICE, new Action.OpenJob(MODEL, Optional.of(WORKER.address()), 1, 500)).created().orElseThrow();
    commit(WORKER, new Action.SettleJob(job, 1, 100, List.of()));
    long committed = commit(WORKER, new Action.CommitReceipts(List.of(new Action.CommitReceipts.Entry(job,
        receipt("idle"), Optional.of(new TraceCommitment(Hash.of(new byte[] {1}), 4, receipt("in"), receipt("out"))))))).height();
    long windowEnd = committed + ledger.genesis().challengeWindowBlocks();
    assertEquals(new StateRecord.Exposure(1, 0, 110), ledger.view().exposure(WORKER.address()));
    awaitIdleBlock(windowEnd);
    commit(BOB, new Action.Finalize(job));
    assertEquals(StateRecord.Exposure.NONE, ledger.view().exposure(WORKER.address()));

    long release = commit(WORKER, new Action.BeginUnstake(1_000)).height() + ledger.genesis().unbondingBlocks();
    awaitIdleBlock(release - 1);
    commit(WORKER, new Action.Withdraw());
    assertTrue(!((CommittedView) ledger.view()).state().deadlinesPending(), "nothing left to wait for");
  }

  @Test
  void blocksChainUpAndReplayToTheLatestStateRoot() throws Exception {
    commit(OWNER, new Action.RegisterModel(MODEL, 10));
    commit(WORKER, Fixtures.node().build());
    Hash job = commit(ALICE, new Action.OpenJob(MODEL, Optional.of(WORKER.address()), 2, 500)).created().orElseThrow();
    commit(WORKER, new Action.SettleJob(job, 2, 100, List.of()));
    commit(WORKER, new Action.CommitReceipts(List.of(new Action.CommitReceipts.Entry(job, receipt("a")))));
    LightClient client = LightClient.of(ledger.genesis());
    List<Block> blocks = new ArrayList<>();
    long last = ledger.latestHeader().height();
    for (long h = 0; h <= last; h++) {
      Block b = ledger.block(h).orElseThrow();
      client.verifyHeader(b.header());
      if (h > 0) {
        assertEquals(blocks.getLast().header().hash(), b.header().previous());
      }
      blocks.add(b);
    }
    assertEquals(ledger.latestHeader().stateRoot(), Chain.replay(ledger.genesis(), blocks).root());
  }

  static Cid receipt(String name) {
    return Cid.raw(("receipt " + name).getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void lightClientChecksReceiptInclusionPaymentAndBalances() throws Exception {
    commit(OWNER, new Action.RegisterModel(MODEL, 10));
    commit(WORKER, Fixtures.node().build());
    Hash job = commit(ALICE, new Action.OpenJob(MODEL, Optional.of(WORKER.address()), 2, 500)).created().orElseThrow();
    assertEquals(Action.OpenJob.jobId(ALICE.address(), 0), job);
    Cid r1 = receipt("one");
    commit(WORKER, new Action.CommitReceipts(List.of(new Action.CommitReceipts.Entry(job, r1),
        new Action.CommitReceipts.Entry(job, receipt("two")))));
    LightClient client = LightClient.of(ledger.genesis());

    ReceiptProof proof = ReceiptProof.decode(ledger.receiptProof(r1).orElseThrow().encode());
    assertEquals(new Action.CommitReceipts.Entry(job, r1), client.verifyReceipt(proof));
    LedgerView before = ledger.view();
    VerificationException unpaid = assertThrows(VerificationException.class,
        () -> client.verifyJobPaid(proof, before.header(), before.prove(StateKey.job(job))));
    assertTrue(unpaid.getMessage().contains("not settled"), unpaid.getMessage());

    commit(WORKER, new Action.SettleJob(job, 2, 100, List.of()));
    LedgerView v = ledger.view();
    StateRecord.Job paid = client.verifyJobPaid(proof, v.header(), StateProof.decode(v.prove(StateKey.job(job)).encode()));
    assertEquals(StateRecord.Job.Status.SETTLED, paid.status());
    assertEquals(120, paid.charged());

    StateRecord.Account alice = client.verifyAccount(v.header(), ALICE.address(), v.prove(StateKey.account(ALICE.address())));
    assertEquals(v.account(ALICE.address()), alice);
    assertEquals(START - 1 - 120, alice.balance());
    StateRecord.Stake stake = client.verifyStake(v.header(), WORKER.address(), v.prove(StateKey.stake(WORKER.address())));
    assertEquals(1_000, stake.bonded());
    Signer stranger = Fixtures.key(60);
    assertEquals(StateRecord.Account.EMPTY,
        client.verifyAccount(v.header(), stranger.address(), v.prove(StateKey.account(stranger.address()))));
    assertEquals(Optional.empty(), ledger.receiptProof(receipt("never")));

    // A proof for one key does not pass for another; a proof does not pass against another header.
    assertThrows(VerificationException.class,
        () -> client.verifyAccount(v.header(), BOB.address(), v.prove(StateKey.account(ALICE.address()))));
    assertThrows(VerificationException.class,
        () -> client.verifyAccount(before.header(), ALICE.address(), v.prove(StateKey.account(ALICE.address()))));
    // A receipt proof claiming another tree size, or a header from another sequencer, fails.
    MerkleProof p = proof.path();
    ReceiptProof resized = new ReceiptProof(proof.header(), proof.entry(),
        new MerkleProof(p.index(), p.treeSize() + 1, p.path()));
    assertThrows(VerificationException.class, () -> client.verifyReceipt(resized));
    assertThrows(VerificationException.class,
        () -> new LightClient(Fixtures.CHAIN, BOB.publicKey()).verifyReceipt(proof));
    assertThrows(VerificationException.class,
        () -> new LightClient("other-chain", Fixtures.SEQUENCER.publicKey()).verifyHeader(v.header()));
  }

  @Test
  void closedLedgerRefusesSubmissions() throws Exception {
    ledger.close();
    TransactionRejected r = rejection(ledger.submit(signed(ALICE, new Action.Stake(5))));
    assertEquals(TransactionRejected.Reason.UNAVAILABLE, r.reason());
  }
}
