package dev.verity.core.crypto;

import static dev.verity.core.TestVectors.hex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.verity.core.Base32;
import dev.verity.core.DecodingException;
import dev.verity.core.TestVectors;
import dev.verity.core.VerificationException;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Signer and PublicKey against RFC 8032 section 7.1, and against hostile keys and signatures. */
class Ed25519Test {
  /** The order of the base point, L = 2^252 + 27742317777372353535851937790883648493. */
  private static final BigInteger L =
      BigInteger.TWO.pow(252).add(new BigInteger("27742317777372353535851937790883648493"));

  private record Vector(String name, byte[] secret, byte[] publicKey, byte[] message, byte[] sig) {}

  private static List<Vector> vectors() {
    List<Vector> out =
        TestVectors.records("ed25519-rfc8032.txt").stream()
            .map(
                (Map<String, String> r) ->
                    new Vector(
                        r.get("name"),
                        hex(r.get("secret")),
                        hex(r.get("public")),
                        hex(r.get("message")),
                        hex(r.get("signature"))))
            .toList();
    assertEquals(5, out.size(), "RFC 8032 section 7.1 has five Ed25519 tests");
    assertEquals(1023, out.get(3).message().length, "TEST 1024 signs 1023 bytes");
    return out;
  }

  @Test
  void derivesTheRfc8032PublicKeys() {
    for (Vector v : vectors()) {
      assertEquals(hex(v.publicKey()), hex(Signer.fromSeed(v.secret()).publicKey().toBytes()), v.name());
    }
  }

  @Test
  void producesTheRfc8032SignaturesExactly() {
    for (Vector v : vectors()) {
      Signer signer = Signer.fromSeed(v.secret());
      assertEquals(hex(v.sig()), hex(signer.sign(v.message())), v.name());
      assertArrayEquals(signer.sign(v.message()), signer.sign(v.message()), "signing is deterministic");
    }
  }

  @Test
  void acceptsTheRfc8032Signatures() throws VerificationException {
    for (Vector v : vectors()) {
      PublicKey key = PublicKey.fromBytes(v.publicKey());
      key.verify(v.message(), v.sig());
      assertEquals(key, Signer.fromSeed(v.secret()).publicKey());
    }
  }

  private static byte[] flip(byte[] b, int bit) {
    byte[] out = b.clone();
    out[bit / 8] ^= (byte) (1 << (bit % 8));
    return out;
  }

  @Test
  void rejectsEverySignatureWithOneBitFlipped() {
    for (Vector v : vectors()) {
      PublicKey key = PublicKey.fromBytes(v.publicKey());
      // Every bit of TEST 1's signature; 32 bits spread over each of the others.
      int step = v.name().equals("TEST 1") ? 1 : 16;
      for (int bit = v.name().length() % step; bit < 8 * v.sig().length; bit += step) {
        byte[] bad = flip(v.sig(), bit);
        assertThrows(VerificationException.class, () -> key.verify(v.message(), bad), v.name() + " bit " + bit);
      }
    }
  }

  @Test
  void rejectsTheSignatureWhenOneMessageBitIsFlipped() {
    for (Vector v : vectors()) {
      PublicKey key = PublicKey.fromBytes(v.publicKey());
      int bits = 8 * v.message().length;
      // Every bit of the short messages, an even spread of 41 bits of the long ones.
      int step = Math.max(1, bits / 41);
      for (int bit = 0; bit < bits; bit += step) {
        byte[] bad = flip(v.message(), bit);
        assertThrows(VerificationException.class, () -> key.verify(bad, v.sig()), v.name() + " bit " + bit);
      }
      byte[] longer = java.util.Arrays.copyOf(v.message(), v.message().length + 1);
      assertThrows(VerificationException.class, () -> key.verify(longer, v.sig()), v.name());
    }
  }

  @Test
  void rejectsTheSignatureUnderAKeyWithOneBitFlipped() {
    for (Vector v : vectors()) {
      // Every bit of TEST 1's key; 32 bits spread over each of the others.
      int step = v.name().equals("TEST 1") ? 1 : 8;
      for (int bit = v.name().length() % step; bit < 8 * v.publicKey().length; bit += step) {
        byte[] flipped = flip(v.publicKey(), bit);
        PublicKey other;
        try {
          other = PublicKey.fromBytes(flipped);
        } catch (DecodingException notAPoint) {
          continue; // about half of all 32-byte strings are not points: rejected even earlier
        }
        assertThrows(VerificationException.class, () -> other.verify(v.message(), v.sig()), v.name() + " bit " + bit);
      }
    }
  }

  @Test
  void rejectsASignatureByAnotherKey() {
    List<Vector> all = vectors();
    PublicKey second = PublicKey.fromBytes(all.get(1).publicKey());
    Vector first = all.get(0);
    assertThrows(VerificationException.class, () -> second.verify(first.message(), first.sig()));
  }

  /** S + L is the same scalar mod L; RFC 8032 requires S < L, so the variant must be refused. */
  @Test
  void rejectsMalleatedSignaturesWithSPlusL() {
    for (Vector v : vectors()) {
      byte[] sig = v.sig().clone();
      BigInteger s = littleEndian(sig, 32);
      byte[] sPlusL = toLittleEndian(s.add(L));
      System.arraycopy(sPlusL, 0, sig, 32, 32);
      PublicKey key = PublicKey.fromBytes(v.publicKey());
      assertThrows(VerificationException.class, () -> key.verify(v.message(), sig), v.name());
    }
  }

  private static BigInteger littleEndian(byte[] b, int offset) {
    byte[] be = new byte[32];
    for (int i = 0; i < 32; i++) {
      be[31 - i] = b[offset + i];
    }
    return new BigInteger(1, be);
  }

  private static byte[] toLittleEndian(BigInteger n) {
    assertEquals(0, n.shiftRight(256).signum(), "S + L fits in 32 bytes");
    byte[] be = n.toByteArray();
    byte[] le = new byte[32];
    for (int i = 0; i < 32 && i < be.length; i++) {
      le[i] = be[be.length - 1 - i];
    }
    return le;
  }

  @Test
  void rejectsInputsOfTheWrongLength() {
    for (int n : new int[] {0, 1, 31, 33, 64}) {
      assertThrows(DecodingException.class, () -> Signer.fromSeed(new byte[n]), "seed of " + n);
      assertThrows(DecodingException.class, () -> PublicKey.fromBytes(new byte[n]), "key of " + n);
    }
    assertThrows(DecodingException.class, () -> Signer.fromSeed(null));
    assertThrows(DecodingException.class, () -> PublicKey.fromBytes(null));
    Vector v = vectors().get(1);
    PublicKey key = PublicKey.fromBytes(v.publicKey());
    for (int n : new int[] {0, 1, 32, 63, 65, 128}) {
      byte[] sig = java.util.Arrays.copyOf(v.sig(), n);
      VerificationException e =
          assertThrows(VerificationException.class, () -> key.verify(v.message(), sig), "sig of " + n);
      assertTrue(e.getMessage().contains("64 bytes"), e.getMessage());
    }
    assertThrows(VerificationException.class, () -> key.verify(v.message(), null));
  }

  /**
   * Encodings that are not points (RFC 8032 section 5.1.3 decoding fails): a y with no matching x,
   * y at or above p, and x = 0 with the sign bit set.
   */
  @ParameterizedTest
  @ValueSource(
      strings = {
        "0200000000000000000000000000000000000000000000000000000000000000", // y = 2: no x
        "0700000000000000000000000000000000000000000000000000000000000000", // y = 7: no x
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // y = p
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // y = p + 1
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // y = 2^255 - 1
        "0100000000000000000000000000000000000000000000000000000000000080", // y = 1, x = -0
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff" // y = p - 1, x = -0
      })
  void rejectsEncodingsThatAreNotCurvePoints(String encoding) {
    DecodingException e =
        assertThrows(DecodingException.class, () -> PublicKey.fromBytes(hex(encoding)));
    assertTrue(e.getMessage().contains("Ed25519"), e.getMessage());
  }

  /**
   * The eight points of small order. Under such a key the signature (R = small-order point, S = 0)
   * verifies for every message, so a key that is one of them could be used to disown or forge
   * receipts; they must never be accepted as keys.
   */
  @ParameterizedTest
  @ValueSource(
      strings = {
        "0100000000000000000000000000000000000000000000000000000000000000",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0000000000000000000000000000000000000000000000000000000000000080",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa"
      })
  void rejectsKeysOfSmallOrder(String encoding) {
    DecodingException e =
        assertThrows(DecodingException.class, () -> PublicKey.fromBytes(hex(encoding)));
    assertTrue(e.getMessage().contains("small order"), e.getMessage());
    assertThrows(
        DecodingException.class,
        () -> PublicKey.parse("ed25519:" + Base32.encode(hex(encoding))));
  }

  @Test
  void textFormRoundTrips() {
    Vector v = vectors().get(0);
    PublicKey key = PublicKey.fromBytes(v.publicKey());
    assertEquals("ed25519:25njqamcweflpvkl73j4szahhihoc4xt3ktcgjnpaingr5yhkena", key.toString());
    assertEquals(key, PublicKey.parse(key.toString()));
    assertEquals(key.hashCode(), PublicKey.parse(key.toString()).hashCode());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "ed25519:",
        "25njqamcweflpvkl73j4szahhihoc4xt3ktcgjnpaingr5yhkena",
        "ED25519:25njqamcweflpvkl73j4szahhihoc4xt3ktcgjnpaingr5yhkena",
        "ed25519:25NJQAMCWEFLPVKL73J4SZAHHIHOC4XT3KTCGJNPAINGR5YHKENA",
        "ed25519:25njqamcweflpvkl73j4szahhihoc4xt3ktcgjnpaingr5yhken",
        "ed25519:25njqamcweflpvkl73j4szahhihoc4xt3ktcgjnpaingr5yhkenaa",
        "ed25519: 25njqamcweflpvkl73j4szahhihoc4xt3ktcgjnpaingr5yhkena",
        "x25519:25njqamcweflpvkl73j4szahhihoc4xt3ktcgjnpaingr5yhkena"
      })
  void rejectsMalformedKeyText(String text) {
    assertThrows(DecodingException.class, () -> PublicKey.parse(text));
  }

  @Test
  void rejectsMissingKeyText() {
    assertThrows(DecodingException.class, () -> PublicKey.parse(null));
  }

  @Test
  void generatedKeysAreDistinctAndWork() throws VerificationException {
    Signer a = Signer.generate();
    Signer b = Signer.generate();
    assertNotEquals(a.publicKey(), b.publicKey());
    byte[] msg = "receipt".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    a.publicKey().verify(msg, a.sign(msg));
    assertThrows(VerificationException.class, () -> b.publicKey().verify(msg, a.sign(msg)));
    assertEquals(a.address(), Address.of(a.publicKey()));
  }

  @Test
  void signerTextShowsOnlyThePublicKey() {
    Vector v = vectors().get(0);
    Signer signer = Signer.fromSeed(v.secret());
    String text = signer.toString();
    assertTrue(text.contains(signer.publicKey().toString()), text);
    assertFalse(text.contains(hex(v.secret())), text);
    assertFalse(text.contains(Base32.encode(v.secret())), text);
    assertFalse(signer.seed().toString().contains(hex(v.secret())));
  }

  @Property(tries = 40)
  void signaturesOfRandomKeysVerifyAndAnyFlippedBitIsRejected(
      @ForAll @Size(32) byte[] seed,
      @ForAll @Size(max = 200) byte[] message,
      @ForAll @IntRange(min = 0, max = 511) int bit) {
    Signer signer = Signer.fromSeed(seed);
    byte[] sig = signer.sign(message);
    try {
      signer.publicKey().verify(message, sig);
      PublicKey.fromBytes(signer.publicKey().toBytes()).verify(message, sig);
    } catch (VerificationException e) {
      fail("a fresh signature must verify", e);
    }
    assertThrows(VerificationException.class, () -> signer.publicKey().verify(message, flip(sig, bit)));
  }

  @Property(tries = 300)
  void arbitraryKeyBytesEitherDecodeOrFailWithDecodingException(@ForAll @Size(32) byte[] raw) {
    try {
      PublicKey key = PublicKey.fromBytes(raw);
      assertArrayEquals(raw, key.toBytes());
      // A decoded key must be usable: a bogus signature is refused, never crashes.
      assertThrows(VerificationException.class, () -> key.verify(new byte[1], new byte[64]));
    } catch (DecodingException expected) {
      // not a point, or a point of small order
    }
  }
}
