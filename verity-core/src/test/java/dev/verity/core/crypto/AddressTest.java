package dev.verity.core.crypto;

import static dev.verity.core.TestVectors.hex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.DecodingException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class AddressTest {
  /** RFC 8032 TEST 1 public key. */
  private static final String TEST1_PUBLIC =
      "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

  /**
   * Addresses are stored on ledgers and in manifests: the derivation must never change. This value
   * was computed outside Verity as base32(SHA-256("verity/address" 0x00 key)[0..20]).
   */
  @Test
  void derivationIsStable() {
    Address a = Address.of(PublicKey.fromBytes(hex(TEST1_PUBLIC)));
    assertEquals("vtuxzynug42f2ukl5ouiuohb36ssnbwwfr", a.toString());
    assertEquals(a, Signer.fromSeed(hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")).address());
  }

  @Test
  void derivationIsTheDocumentedTaggedHash() throws Exception {
    byte[] key = hex(TEST1_PUBLIC);
    MessageDigest d = MessageDigest.getInstance("SHA-256");
    d.update("verity/address".getBytes(StandardCharsets.US_ASCII));
    d.update((byte) 0);
    d.update(key);
    byte[] expected = Arrays.copyOf(d.digest(), Address.LENGTH);
    assertArrayEquals(expected, Address.of(PublicKey.fromBytes(key)).toBytes());
  }

  @Test
  void differentKeysHaveDifferentAddresses() {
    assertNotEquals(Signer.generate().address(), Signer.generate().address());
  }

  @Property
  void textAndBytesRoundTrip(@ForAll @Size(20) byte[] bytes) {
    Address a = Address.fromBytes(bytes);
    assertEquals(a, Address.parse(a.toString()));
    assertEquals(a, Address.fromBytes(a.toBytes()));
    assertEquals(34, a.toString().length());
    assertEquals(Integer.signum(Arrays.compareUnsigned(bytes, new byte[20])),
        Integer.signum(a.compareTo(Address.fromBytes(new byte[20]))));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "vt",
        "uxzynug42f2ukl5ouiuohb36ssnbwwfr",
        "VTuxzynug42f2ukl5ouiuohb36ssnbwwfr",
        "vtUXZYNUG42F2UKL5OUIUOHB36SSNBWWFR",
        "vtuxzynug42f2ukl5ouiuohb36ssnbwwf",
        "vtuxzynug42f2ukl5ouiuohb36ssnbwwfrq",
        "vtuxzynug42f2ukl5ouiuohb36ssnbwwf1",
        "vtuxzynug42f2ukl5ouiuohb36ssnbwwf="
      })
  void rejectsMalformedText(String text) {
    assertThrows(DecodingException.class, () -> Address.parse(text));
  }

  @Test
  void rejectsMissingOrWrongLengthInputAndKeepsMessagesShort() {
    assertThrows(DecodingException.class, () -> Address.parse(null));
    assertThrows(DecodingException.class, () -> Address.fromBytes(null));
    assertThrows(DecodingException.class, () -> Address.fromBytes(new byte[19]));
    assertThrows(DecodingException.class, () -> Address.fromBytes(new byte[21]));
    DecodingException e =
        assertThrows(DecodingException.class, () -> Address.parse("vt" + "a".repeat(100_000)));
    assertTrue(e.getMessage().length() < 300, "message echoes hostile input in full");
  }
}
