package dev.verity.core.crypto;

import static dev.verity.core.crypto.Ed25519Reference.*;

import static dev.verity.core.TestVectors.hex;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.TestVectors;
import dev.verity.core.VerificationException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link BatchVerifier} gives, for every signature of a batch, the verdict and the exception of
 * {@link PublicKey#verify}: on honest signatures, every kind of alteration, the RFC 8032 vectors,
 * and the crafted cases of PROTOCOL.md 2.2 (small-order and torsion components, non-canonical R,
 * S + L), wherever the bad one sits in the batch and whatever the batch's size.
 */
class BatchVerifierTest {

  private record Triple(PublicKey key, byte[] message, byte[] sig) {}

  /** What PublicKey.verify says of each triple: null if valid, else its message. */
  private static List<String> singleVerdicts(List<Triple> triples) {
    List<String> out = new ArrayList<>();
    for (Triple t : triples) {
      try {
        t.key().verify(t.message(), t.sig());
        out.add(null);
      } catch (VerificationException e) {
        out.add(e.getMessage());
      }
    }
    return out;
  }

  private static List<String> batchVerdicts(List<Triple> triples) {
    BatchVerifier b = BatchVerifier.create();
    for (int i = 0; i < triples.size(); i++) {
      assertEquals(i, b.add(triples.get(i).key(), triples.get(i).message(), triples.get(i).sig()));
    }
    assertEquals(triples.size(), b.size());
    List<String> out = new ArrayList<>();
    for (int i = 0; i < triples.size(); i++) {
      out.add(null);
    }
    int last = -1;
    for (BatchVerifier.Failure f : b.failures()) {
      assertTrue(f.index() > last, "failures come by increasing index");
      last = f.index();
      out.set(f.index(), f.reason().getMessage());
    }
    return out;
  }

  private static void assertAgrees(List<Triple> triples, String what) {
    assertEquals(singleVerdicts(triples), batchVerdicts(triples), what);
  }

  private static List<Triple> honest(Random rnd, int count, int keys) {
    List<Signer> signers = new ArrayList<>();
    for (int i = 0; i < keys; i++) {
      byte[] seed = new byte[32];
      rnd.nextBytes(seed);
      signers.add(Signer.fromSeed(seed));
    }
    List<Triple> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      Signer s = signers.get(rnd.nextInt(keys));
      byte[] m = new byte[rnd.nextInt(100)];
      rnd.nextBytes(m);
      out.add(new Triple(s.publicKey(), m, s.sign(m)));
    }
    return out;
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 2, 3, 7, 64, 301})
  void acceptsBatchesOfHonestSignaturesOfEverySize(int size) throws VerificationException {
    List<Triple> triples = honest(new Random(size), size, Math.max(1, size / 3));
    BatchVerifier b = BatchVerifier.create();
    for (Triple t : triples) {
      b.add(t.key(), t.message(), t.sig());
    }
    b.verifyAll();
    assertEquals(List.of(), b.failures());
    assertTrue(b.combinedEquationHolds(), "the combined equation holds without fallback");
  }

  /** Kinds of alteration, applied to one triple of a batch. */
  private static Triple alter(Triple t, int kind, int where, Random rnd) {
    if (t.sig().length != 64) {
      return t; // already of the wrong length
    }
    byte[] sig = t.sig().clone();
    byte[] msg = t.message().clone();
    switch (kind) {
      case 0 -> sig[where % 64] ^= (byte) (1 << (where % 8)); // one signature bit
      case 1 -> { // one message bit, or a byte appended to an empty message
        if (msg.length == 0) {
          msg = new byte[] {1};
        } else {
          msg[where % msg.length] ^= (byte) (1 << (where % 8));
        }
      }
      case 2 -> { // another key
        byte[] seed = new byte[32];
        rnd.nextBytes(seed);
        return new Triple(Signer.fromSeed(seed).publicKey(), msg, sig);
      }
      case 3 -> System.arraycopy(le(scalar(sig, 32).add(L)), 0, sig, 32, 32); // S + L
      case 4 -> sig = java.util.Arrays.copyOf(sig, where % 2 == 0 ? 63 : 65); // wrong length
      case 5 -> System.arraycopy(sig, 0, sig, 32, 32); // S replaced by R's bytes
      case 6 -> rnd.nextBytes(sig); // random bytes
      case 7 -> { // random S below L, honest R
        byte[] s = le(new BigInteger(252, rnd));
        System.arraycopy(s, 0, sig, 32, 32);
      }
      default -> throw new IllegalArgumentException();
    }
    return new Triple(t.key(), msg, sig);
  }

  @Property(tries = 40)
  void reportsExactlyTheSignaturesThatFailAlone(
      @ForAll @IntRange(min = 1, max = 40) int size,
      @ForAll @IntRange(min = 0, max = 7) int kind,
      @ForAll @IntRange(min = 0, max = 10_000) int where,
      @ForAll @IntRange(min = 0, max = 3) int extraBad,
      @ForAll @LongRange long seed) {
    Random rnd = new Random(seed);
    List<Triple> triples = new ArrayList<>(honest(rnd, size, 1 + rnd.nextInt(size)));
    int at = where % size;
    triples.set(at, alter(triples.get(at), kind, where, rnd));
    for (int i = 0; i < extraBad; i++) {
      int j = rnd.nextInt(size);
      triples.set(j, alter(triples.get(j), rnd.nextInt(8), rnd.nextInt(10_000), rnd));
    }
    List<String> single = singleVerdicts(triples);
    assertTrue(single.get(at) != null, "the altered signature fails alone");
    assertEquals(single, batchVerdicts(triples));
    assertEquals(false, combined(triples), "the combined equation fails");
  }

  private static boolean combined(List<Triple> triples) {
    BatchVerifier b = BatchVerifier.create();
    triples.forEach(t -> b.add(t.key(), t.message(), t.sig()));
    return b.combinedEquationHolds();
  }

  @Test
  void verifyAllNamesTheFirstBadSignatureAndKeepsItsReason() {
    List<Triple> triples = honest(new Random(3), 50, 10);
    triples.set(17, alter(triples.get(17), 0, 200, new Random(1)));
    triples.set(41, alter(triples.get(41), 1, 3, new Random(1)));
    BatchVerifier b = BatchVerifier.create();
    triples.forEach(t -> b.add(t.key(), t.message(), t.sig()));
    VerificationException e = assertThrows(VerificationException.class, b::verifyAll);
    assertTrue(e.getMessage().startsWith("signature 17 of 50 (2 bad in all): "), e.getMessage());
    assertEquals(singleVerdicts(triples).get(17), e.getCause().getMessage());
    assertEquals(List.of(17, 41), b.failures().stream().map(BatchVerifier.Failure::index).toList());
  }

  @Test
  void rejectsTwoBadSignaturesWhoseErrorsWouldCancelInAnUnweightedSum() {
    // S1 + 1 and S2 - 1: [S1+1]B - R1 - k1A1 = B and [S2-1]B - R2 - k2A2 = -B; the plain sum of the
    // two equations holds, the randomly weighted one does not.
    List<Triple> triples = honest(new Random(11), 2, 2);
    byte[] s1 = triples.get(0).sig().clone();
    byte[] s2 = triples.get(1).sig().clone();
    System.arraycopy(le(scalar(s1, 32).add(BigInteger.ONE).mod(L)), 0, s1, 32, 32);
    System.arraycopy(le(scalar(s2, 32).subtract(BigInteger.ONE).mod(L)), 0, s2, 32, 32);
    triples.set(0, new Triple(triples.get(0).key(), triples.get(0).message(), s1));
    triples.set(1, new Triple(triples.get(1).key(), triples.get(1).message(), s2));
    for (int round = 0; round < 5; round++) {
      assertEquals(List.of(0, 1), indices(triples));
      assertEquals(false, combined(triples));
    }
  }

  @Test
  void acceptsAKeysManySignaturesEvenFromDistinctKeyObjects() {
    Signer s = Signer.fromSeed(new byte[32]);
    List<Triple> triples = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      byte[] m = {(byte) i};
      PublicKey key = i % 2 == 0 ? s.publicKey() : PublicKey.fromBytes(s.publicKey().toBytes());
      triples.add(new Triple(key, m, s.sign(m)));
    }
    assertEquals(List.of(), indices(triples));
    assertTrue(combined(triples));
    triples.set(9, new Triple(triples.get(9).key(), new byte[] {100}, triples.get(9).sig()));
    assertEquals(List.of(9), indices(triples));
  }

  @Test
  void agreesOnTheRfc8032Vectors() {
    List<Triple> triples = new ArrayList<>();
    for (Map<String, String> r : TestVectors.records("ed25519-rfc8032.txt")) {
      triples.add(new Triple(PublicKey.fromBytes(hex(r.get("public"))), hex(r.get("message")),
          hex(r.get("signature"))));
    }
    assertEquals(5, triples.size());
    assertEquals(List.of(), indices(triples));
    assertTrue(combined(triples));
    for (int bad = 0; bad < triples.size(); bad++) {
      List<Triple> altered = new ArrayList<>(triples);
      altered.set(bad, alter(triples.get(bad), 0, 7 * bad + 1, new Random(bad)));
      assertEquals(List.of(bad), indices(altered), "vector " + bad + " altered");
    }
  }

  /**
   * The crafted cases of Ed25519VerificationRuleTest, each among honest signatures: accepted ones
   * (torsion component in the key or in R, identity R with S = ka) and refused ones (small-order R,
   * non-canonical R, S + L, negative zero x).
   */
  @Test
  void followsTheCofactoredRuleOnCraftedSignatures() throws NoSuchAlgorithmException {
    List<Triple> crafted = new ArrayList<>();
    // a key with a torsion component, and signatures its holder makes
    BigInteger a = BigInteger.valueOf(123_456_789);
    BigInteger[] torsion8 = decode(smallOrder()[4]);
    byte[] torsionKey = encode(add(mul(a, base()), torsion8));
    for (int i = 0; i < 6; i++) {
      crafted.add(holderSigned(torsionKey, a, BigInteger.valueOf(1_000 + i), null, new byte[] {(byte) i}));
    }
    // R with a small-order component, under a clean key
    BigInteger b = BigInteger.valueOf(987_654_321);
    byte[] cleanKey = encode(mul(b, base()));
    for (byte[] t : smallOrder()) {
      crafted.add(holderSigned(cleanKey, b, BigInteger.valueOf(77), decode(t), new byte[] {3}));
    }
    // identity R, canonical (accepted) and as y = p + 1 (refused), and identity with the sign bit set
    for (String r : new String[] {
        "0100000000000000000000000000000000000000000000000000000000000000",
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "0100000000000000000000000000000000000000000000000000000000000080"}) {
      crafted.add(withR(cleanKey, b, HexFormat.of().parseHex(r), new byte[] {42}));
    }
    // small-order R with S = 0, and with an honest S
    Signer s = Signer.fromSeed(new byte[32]);
    byte[] msg = "verity".getBytes(StandardCharsets.UTF_8);
    byte[] honestSig = s.sign(msg);
    for (byte[] r : smallOrder()) {
      byte[] forged = new byte[64];
      System.arraycopy(r, 0, forged, 0, 32);
      crafted.add(new Triple(s.publicKey(), msg, forged));
      byte[] withS = honestSig.clone();
      System.arraycopy(r, 0, withS, 0, 32);
      crafted.add(new Triple(s.publicKey(), msg, withS));
    }
    // S + L, S = L, and R whose y is not a curve point's
    byte[] plusL = honestSig.clone();
    System.arraycopy(le(scalar(honestSig, 32).add(L)), 0, plusL, 32, 32);
    crafted.add(new Triple(s.publicKey(), msg, plusL));
    byte[] exactlyL = honestSig.clone();
    System.arraycopy(le(L), 0, exactlyL, 32, 32);
    crafted.add(new Triple(s.publicKey(), msg, exactlyL));
    byte[] notOnCurve = honestSig.clone();
    notOnCurve[0] = 2;
    java.util.Arrays.fill(notOnCurve, 1, 32, (byte) 0);
    crafted.add(new Triple(s.publicKey(), msg, notOnCurve));

    List<String> single = singleVerdicts(crafted);
    assertTrue(single.subList(0, 6).stream().allMatch(v -> v == null), "torsion key accepted alone");
    assertTrue(single.get(6 + smallOrder().length) == null, "identity R accepted alone");
    assertTrue(single.get(7 + smallOrder().length) != null, "non-canonical identity refused alone");

    Random rnd = new Random(5);
    List<Triple> mixed = new ArrayList<>(honest(rnd, 30, 5));
    for (Triple c : crafted) {
      mixed.add(rnd.nextInt(mixed.size() + 1), c);
    }
    assertAgrees(mixed, "crafted among honest");
    for (Triple c : crafted) {
      List<Triple> one = new ArrayList<>(honest(rnd, 4, 2));
      one.add(rnd.nextInt(5), c);
      assertAgrees(one, "one crafted signature among four honest ones");
    }
    // only the accepted crafted ones: the batch equation itself must hold
    List<Triple> acceptedOnly = new ArrayList<>(honest(rnd, 10, 3));
    for (int i = 0; i < crafted.size(); i++) {
      if (single.get(i) == null) {
        acceptedOnly.add(crafted.get(i));
      }
    }
    assertEquals(List.of(), indices(acceptedOnly));
    assertTrue(combined(acceptedOnly), "the combined equation accepts every crafted signature the rule accepts");
    for (int i = 0; i < crafted.size(); i++) {
      if (single.get(i) != null) {
        List<Triple> withBad = new ArrayList<>(acceptedOnly);
        withBad.add(rnd.nextInt(withBad.size() + 1), crafted.get(i));
        assertEquals(false, combined(withBad), "crafted signature " + i + " refused by the combination");
      }
    }
  }

  private static List<Integer> indices(List<Triple> triples) {
    BatchVerifier b = BatchVerifier.create();
    triples.forEach(t -> b.add(t.key(), t.message(), t.sig()));
    return b.failures().stream().map(BatchVerifier.Failure::index).toList();
  }

  /** A signature with R = rB (+ t) and S = r + ka, as the holder of a makes it. */
  private static Triple holderSigned(byte[] pub, BigInteger a, BigInteger r, BigInteger[] t, byte[] m)
      throws NoSuchAlgorithmException {
    BigInteger[] rPoint = mul(r, base());
    if (t != null) {
      rPoint = add(rPoint, t);
    }
    byte[] rBytes = encode(rPoint);
    BigInteger k = scalar(sha512(rBytes, pub, m), 0, 64).mod(L);
    byte[] sig = new byte[64];
    System.arraycopy(rBytes, 0, sig, 0, 32);
    System.arraycopy(le(r.add(k.multiply(a)).mod(L)), 0, sig, 32, 32);
    return new Triple(PublicKey.fromBytes(pub), m, sig);
  }

  /** A signature with the given R bytes and S = ka. */
  private static Triple withR(byte[] pub, BigInteger a, byte[] rBytes, byte[] m) throws NoSuchAlgorithmException {
    BigInteger k = scalar(sha512(rBytes, pub, m), 0, 64).mod(L);
    byte[] sig = new byte[64];
    System.arraycopy(rBytes, 0, sig, 0, 32);
    System.arraycopy(le(k.multiply(a).mod(L)), 0, sig, 32, 32);
    return new Triple(PublicKey.fromBytes(pub), m, sig);
  }
}
