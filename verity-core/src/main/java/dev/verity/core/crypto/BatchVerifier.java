package dev.verity.core.crypto;

import dev.verity.core.VerificationException;
import java.math.BigInteger;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Checks many Ed25519 signatures at once, with the verdict of {@link PublicKey#verify} for each.
 *
 * <p>Collect (key, message, signature) triples with {@link #add}, then call {@link #verifyAll()}
 * (throws for the first bad signature) or {@link #failures()} (every bad one, by index). The rule
 * is PROTOCOL.md 2.2's, signature by signature: S &lt; L, canonical R that decodes to a curve
 * point, and the cofactored equation [8][S]B = [8]R + [8][k]A. Signatures that pass the encoding
 * checks are checked together with one random linear combination of their equations,
 * [8](sum z_i S_i)B - [8] sum z_i R_i - [8] sum (z_i k_i) A_i = 0, with independent uniformly random
 * 128-bit weights z_i from a {@link SecureRandom}, computed as one multi-scalar multiplication: it
 * holds whenever every signature is valid, and when one is not it holds with probability at most
 * 2^-128. If it does not hold, every signature of the batch is checked on its own with {@link
 * PublicKey#verify}, so the failures and their messages are exactly that method's. Signatures that
 * fail an encoding check are also reported with {@link PublicKey#verify}'s exception.
 *
 * <p>Not thread-safe: one verifier per thread. Messages and signatures are copied when added.
 * Batches of a few dozen to a few hundred signatures cost about half as much per signature as
 * {@link PublicKey#verify} (docs/BENCHMARKS.md); a batch of one is simply verified on its own.
 */
public final class BatchVerifier {
  private static final int WEIGHT_BYTES = 16;

  private final SecureRandom random;
  private final List<Item> items = new ArrayList<>();

  private record Item(PublicKey key, byte[] message, byte[] signature) {}

  /** One signature that does not verify: its index (the order of {@link #add}) and why. */
  public record Failure(int index, VerificationException reason) {
    public Failure {
      Objects.requireNonNull(reason, "reason");
    }
  }

  private BatchVerifier(SecureRandom random) {
    this.random = Objects.requireNonNull(random, "random");
  }

  /** A verifier drawing its weights from a new {@link SecureRandom}. */
  public static BatchVerifier create() {
    return new BatchVerifier(new SecureRandom());
  }

  /** A verifier drawing its weights from {@code random}, which must be a secure source. */
  public static BatchVerifier create(SecureRandom random) {
    return new BatchVerifier(random);
  }

  /**
   * Adds a signature to check. A signature of the wrong length is accepted here and reported as a
   * failure by the verification.
   *
   * @return its index, counting from 0 in the order of adding
   */
  public int add(PublicKey key, byte[] message, byte[] signature) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(message, "message");
    Objects.requireNonNull(signature, "signature");
    items.add(new Item(key, message.clone(), signature.clone()));
    return items.size() - 1;
  }

  /** How many signatures were added. */
  public int size() {
    return items.size();
  }

  /**
   * Checks every signature added so far.
   *
   * @throws VerificationException for the first (lowest index) signature that does not verify,
   *     naming its index; its cause is {@link PublicKey#verify}'s exception for it
   */
  public void verifyAll() throws VerificationException {
    List<Failure> failed = failures();
    if (!failed.isEmpty()) {
      Failure f = failed.get(0);
      throw new VerificationException("signature " + f.index() + " of " + items.size() + " ("
          + failed.size() + " bad in all): " + f.reason().getMessage(), f.reason());
    }
  }

  /**
   * Checks every signature added so far and lists those that do not verify, by increasing index,
   * each with the exception {@link PublicKey#verify} throws for it. Empty when all verify.
   */
  public List<Failure> failures() {
    int n = items.size();
    VerificationException[] reasons = new VerificationException[n];
    List<Prepared> batch = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      Prepared p = n == 1 ? null : prepare(i, items.get(i));
      if (p == null) {
        reasons[i] = verifyAlone(items.get(i));
      } else {
        batch.add(p);
      }
    }
    if (batch.size() == 1) {
      reasons[batch.get(0).index] = verifyAlone(items.get(batch.get(0).index));
    } else if (batch.size() > 1 && !combinationHolds(batch)) {
      for (Prepared p : batch) {
        reasons[p.index] = verifyAlone(items.get(p.index));
      }
    }
    List<Failure> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      if (reasons[i] != null) {
        out.add(new Failure(i, reasons[i]));
      }
    }
    return out;
  }

  /**
   * Whether every signature passes the encoding checks and the weighted combination of all their
   * equations holds, without any fallback; for tests of the combination itself.
   */
  boolean combinedEquationHolds() {
    List<Prepared> batch = new ArrayList<>();
    for (int i = 0; i < items.size(); i++) {
      Prepared p = prepare(i, items.get(i));
      if (p == null) {
        return false;
      }
      batch.add(p);
    }
    return combinationHolds(batch);
  }

  private static VerificationException verifyAlone(Item item) {
    try {
      item.key().verify(item.message(), item.signature());
      return null;
    } catch (VerificationException e) {
      return e;
    }
  }

  /** A signature that passed the encoding checks: its decoded R and S. */
  private record Prepared(int index, int[][] r, BigInteger s) {}

  /** The encoding checks of the single verifier; null if any fails (then it is checked alone). */
  private static Prepared prepare(int index, Item item) {
    byte[] sig = item.signature();
    if (sig.length != Signer.SIGNATURE_LENGTH) {
      return null;
    }
    BigInteger s = littleEndian(sig, 32, 32);
    if (s.compareTo(Ed25519Group.L) >= 0) {
      return null;
    }
    int[][] r = Ed25519Group.decode(sig, 0);
    if (r == null) {
      return null;
    }
    return new Prepared(index, r, s);
  }

  private boolean combinationHolds(List<Prepared> batch) {
    MessageDigest sha512;
    try {
      sha512 = MessageDigest.getInstance("SHA-512");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-512", e);
    }
    int m = batch.size();
    byte[] weights = new byte[WEIGHT_BYTES * m];
    random.nextBytes(weights);
    Map<PublicKey, Integer> keySlot = new HashMap<>();
    List<BigInteger> keyCoefficients = new ArrayList<>();
    List<Ed25519Group.Cached[]> keyTables = new ArrayList<>();
    // terms: B, then each R, then each distinct key
    Ed25519Group.Cached[][] tables = new Ed25519Group.Cached[1 + 2 * m][];
    byte[][] digits = new byte[1 + 2 * m][];
    boolean[] negate = new boolean[1 + 2 * m];
    BigInteger sB = BigInteger.ZERO;
    int t = 1;
    for (int j = 0; j < m; j++) {
      Prepared p = batch.get(j);
      Item item = items.get(p.index);
      byte[] zBytes = new byte[WEIGHT_BYTES];
      System.arraycopy(weights, j * WEIGHT_BYTES, zBytes, 0, WEIGHT_BYTES);
      BigInteger z = new BigInteger(1, zBytes);
      sha512.update(item.signature(), 0, 32);
      sha512.update(item.key().rawBytes());
      sha512.update(item.message());
      BigInteger k = littleEndian(sha512.digest(), 0, 64).mod(Ed25519Group.L);
      sB = sB.add(z.multiply(p.s));
      Integer slot = keySlot.get(item.key());
      if (slot == null) {
        // One table per distinct key, from the first key object that names it.
        Ed25519Group.Cached[] keyTable = item.key().batchTable();
        if (keyTable == null) {
          return false;
        }
        keySlot.put(item.key(), keyCoefficients.size());
        keyCoefficients.add(z.multiply(k));
        keyTables.add(keyTable);
      } else {
        keyCoefficients.set(slot, keyCoefficients.get(slot).add(z.multiply(k)));
      }
      tables[t] = Ed25519Group.oddMultiples(p.r[0], p.r[1]);
      digits[t] = Ed25519Group.nonAdjacentForm(z);
      negate[t] = true;
      t++;
    }
    tables[0] = Ed25519Group.BASE_TABLE;
    digits[0] = Ed25519Group.nonAdjacentForm(sB.mod(Ed25519Group.L));
    for (int a = 0; a < keyCoefficients.size(); a++) {
      tables[t] = keyTables.get(a);
      digits[t] = Ed25519Group.nonAdjacentForm(keyCoefficients.get(a).mod(Ed25519Group.L));
      negate[t] = true;
      t++;
    }
    return Ed25519Group.isNeutralTimesCofactor(tables, digits, negate, t);
  }

  private static BigInteger littleEndian(byte[] b, int off, int len) {
    byte[] be = new byte[len];
    for (int i = 0; i < len; i++) {
      be[len - 1 - i] = b[off + i];
    }
    return new BigInteger(1, be);
  }
}
