package dev.verity.ledger;

import dev.verity.core.VerificationException;
import dev.verity.core.crypto.BatchVerifier;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Checks the signatures of many transactions together with {@link BatchVerifier}: for each one the
 * same verdict, and the same exception message, as {@link SignedTransaction#verify()}.
 */
final class TransactionSignatures {
  /**
   * Transactions checked together: enough to halve the cost per signature, few enough to keep the
   * latency a batch adds, and the re-checking a bad signature causes, small.
   */
  static final int BATCH = 64;
  /** Sender keys a ledger keeps for batch verification. */
  static final int KNOWN_KEYS = 100_000;

  private TransactionSignatures() {}

  /**
   * Checks {@code txs} as one batch, with sender keys taken from {@code keys} (whose tables are
   * kept from earlier batches).
   *
   * @return per transaction, in order, its {@link VerifiedTransaction} or the {@link
   *     VerificationException} that {@link SignedTransaction#verify()} throws for it
   */
  static List<Object> check(List<SignedTransaction> txs, SecureRandom random, KnownKeys keys) {
    Object[] out = new Object[txs.size()];
    if (txs.size() == 1) {
      out[0] = verifyAlone(txs.get(0));
      return Arrays.asList(out);
    }
    BatchVerifier batch = BatchVerifier.create(random);
    for (SignedTransaction t : txs) {
      t.addTo(batch, keys.canonical(t.tx().sender()));
    }
    for (BatchVerifier.Failure f : batch.failures()) {
      out[f.index()] = txs.get(f.index()).notSignedBySender(f.reason());
    }
    for (int i = 0; i < out.length; i++) {
      if (out[i] == null) {
        out[i] = new VerifiedTransaction(txs.get(i));
      }
    }
    return Arrays.asList(out);
  }

  /** Checks {@code txs} in batches of {@link #BATCH}, the batches in parallel; results as {@link #check}. */
  static List<Object> checkInParallel(List<SignedTransaction> txs) {
    List<List<SignedTransaction>> batches = new ArrayList<>();
    for (int i = 0; i < txs.size(); i += BATCH) {
      batches.add(txs.subList(i, Math.min(txs.size(), i + BATCH)));
    }
    SecureRandom random = new SecureRandom();
    KnownKeys keys = new KnownKeys(Math.max(1, txs.size()));
    return batches.parallelStream().flatMap(b -> check(b, random, keys).stream()).toList();
  }

  private static Object verifyAlone(SignedTransaction t) {
    try {
      return t.verify();
    } catch (VerificationException e) {
      return e;
    }
  }
}
