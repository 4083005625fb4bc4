package dev.verity.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.verity.core.VerificationException;
import dev.verity.core.crypto.Signer;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

/**
 * Batched signature checks of transactions give each transaction the verdict and the message of
 * {@link SignedTransaction#verify()}: in {@link TransactionSignatures}, in the sequencer's pipeline
 * and when a block is re-executed ({@link Chain#applyBlock}).
 */
class TransactionSignaturesTest {
  private static final Signer[] SENDERS = {Fixtures.ALICE, Fixtures.BOB, Fixtures.WORKER, Fixtures.OWNER};

  /** Honest transfers, nonces 0.. per sender, sender by sender in turn. */
  private static List<SignedTransaction> transfers(int n) {
    List<SignedTransaction> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Signer s = SENDERS[i % SENDERS.length];
      out.add(new Transaction(Fixtures.CHAIN, s.publicKey(), i / SENDERS.length, 1,
          new Action.Transfer(Fixtures.VERIFIER.address(), 1 + i)).sign(s));
    }
    return out;
  }

  /** A transfer from VERIFIER signed by the wrong key, or with its signature altered. */
  private static SignedTransaction misSigned(int i) {
    Transaction tx = new Transaction(Fixtures.CHAIN, Fixtures.VERIFIER.publicKey(), 0, 1,
        new Action.Transfer(Fixtures.ALICE.address(), 1 + i));
    if (i % 2 == 0) {
      return SignedTransaction.of(tx, Fixtures.BOB.sign(tx.id().toBytes()));
    }
    byte[] sig = Fixtures.VERIFIER.sign(tx.id().toBytes());
    sig[i % 64] ^= 4;
    return SignedTransaction.of(tx, sig);
  }

  private static String singleVerdict(SignedTransaction t) {
    try {
      t.verify();
      return null;
    } catch (VerificationException e) {
      return e.getMessage();
    }
  }

  @Property(tries = 25)
  void batchVerdictsAreThoseOfEachTransactionAlone(
      @ForAll @IntRange(min = 1, max = 60) int size,
      @ForAll @IntRange(min = 0, max = 4) int bad,
      @ForAll @LongRange long seed) {
    Random rnd = new Random(seed);
    List<SignedTransaction> txs = new ArrayList<>(transfers(size));
    for (int b = 0; b < bad; b++) {
      txs.set(rnd.nextInt(size), misSigned(rnd.nextInt(1000)));
    }
    List<Object> checked = TransactionSignatures.check(txs, new SecureRandom(), new KnownKeys(3));
    assertEquals(txs.size(), checked.size());
    for (int i = 0; i < txs.size(); i++) {
      String expected = singleVerdict(txs.get(i));
      if (expected == null) {
        assertEquals(txs.get(i), assertInstanceOf(VerifiedTransaction.class, checked.get(i)).signed());
      } else {
        assertEquals(expected, assertInstanceOf(VerificationException.class, checked.get(i)).getMessage());
      }
    }
  }

  @Test
  void knownKeysGiveTheFirstObjectSeenForEqualKeysAndStayBounded() {
    KnownKeys keys = new KnownKeys(2);
    dev.verity.core.crypto.PublicKey alice = Fixtures.ALICE.publicKey();
    dev.verity.core.crypto.PublicKey aliceAgain = dev.verity.core.crypto.PublicKey.fromBytes(alice.toBytes());
    assertSame(alice, keys.canonical(alice));
    assertSame(alice, keys.canonical(aliceAgain));
    assertSame(Fixtures.BOB.publicKey(), keys.canonical(Fixtures.BOB.publicKey()));
    keys.canonical(Fixtures.WORKER.publicKey()); // a third key: over capacity, starts afresh
    assertSame(aliceAgain, keys.canonical(aliceAgain));
  }

  @Test
  void theSequencerRejectsExactlyTheMisSignedTransactionsOfABurstWithTheSingleCheckReason()
      throws Exception {
    List<SignedTransaction> txs = new ArrayList<>(transfers(400));
    Set<Integer> badAt = new HashSet<>(List.of(0, 7, 128, 129, 255, 399));
    List<SignedTransaction> burst = new ArrayList<>();
    int k = 0;
    for (int i = 0; i < txs.size(); i++) {
      if (badAt.contains(i)) {
        burst.add(misSigned(k++));
      }
      burst.add(txs.get(i));
    }
    try (SequencerLedger ledger = SequencerLedger.inMemory(Fixtures.genesis(), Fixtures.SEQUENCER,
        SequencerLedger.Options.defaults().withVerifierThreads(2).withSignatureBatch(64))) {
      List<CompletableFuture<Committed>> fs = new ArrayList<>();
      for (SignedTransaction t : burst) {
        fs.add(ledger.submit(t));
      }
      int rejected = 0;
      for (int i = 0; i < burst.size(); i++) {
        String expected = singleVerdict(burst.get(i));
        if (expected == null) {
          assertEquals(burst.get(i).id(), fs.get(i).get(60, TimeUnit.SECONDS).txId());
        } else {
          int at = i;
          ExecutionException e = assertThrows(ExecutionException.class, () -> fs.get(at).get(60, TimeUnit.SECONDS));
          TransactionRejected r = assertInstanceOf(TransactionRejected.class, e.getCause());
          assertEquals(TransactionRejected.Reason.BAD_SIGNATURE, r.reason());
          assertEquals(new TransactionRejected(TransactionRejected.Reason.BAD_SIGNATURE, expected).getMessage(),
              r.getMessage());
          rejected++;
        }
      }
      assertEquals(badAt.size(), rejected);
      assertEquals(Fixtures.START + 400 * 401 / 2, ledger.view().account(Fixtures.VERIFIER.address()).balance());
    }
  }

  @Test
  void reExecutingABlockRefusesItsFirstMisSignedTransactionWithTheSingleCheckMessage()
      throws VerificationException, TransactionRejected {
    GenesisConfig genesis = Fixtures.genesis();
    Block genesisBlock = Chain.genesisBlock(genesis, Fixtures.SEQUENCER);
    LedgerState state = LedgerState.genesis(genesis);
    List<SignedTransaction> txs = new ArrayList<>(transfers(300));
    assertEquals(sealed(state, genesisBlock, txs).header().stateRoot(),
        Chain.applyBlock(state, genesisBlock.header(), sealed(state, genesisBlock, txs)).root());
    // Replace two honest transfers by honest-looking ones with bad signatures (same nonce and sender).
    for (int at : new int[] {290, 170}) {
      SignedTransaction honest = txs.get(at);
      byte[] sig = honest.signature();
      sig[40] ^= 1;
      txs.set(at, SignedTransaction.of(honest.tx(), sig));
    }
    Block block = sealed(state, genesisBlock, txs);
    VerificationException e = assertThrows(VerificationException.class,
        () -> Chain.applyBlock(state, genesisBlock.header(), block));
    assertEquals("block 1: " + singleVerdict(txs.get(170)), e.getMessage());
  }

  /** A block holding {@code txs} as the sequencer would seal it, signatures not checked. */
  private static Block sealed(LedgerState state, Block genesisBlock, List<SignedTransaction> txs)
      throws TransactionRejected {
    BlockExecution exec = state.begin(1, genesisBlock.header().hash(), genesisBlock.header().timeMillis(),
        DisputeReferee.NONE);
    for (SignedTransaction t : txs) {
      exec.apply(new VerifiedTransaction(t));
    }
    return Chain.seal(exec, exec.finish(), genesisBlock.header(), Fixtures.SEQUENCER);
  }
}
