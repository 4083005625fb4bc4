package dev.verity.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.DecodingException;
import dev.verity.core.Hash;
import dev.verity.core.VerificationException;
import dev.verity.core.crypto.Signer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

class RequestSignatureTest {
  static final Signer KEY = Signer.generate();
  static final long NOW = 1_800_000_000_000L;
  static final Hash BODY = Hash.of("{\"inputs\":{}}".getBytes(StandardCharsets.UTF_8));

  static RequestSignature signed() {
    return RequestSignature.sign(KEY, "POST", "/v1/manifests/x/infer?a=1", NOW, BODY);
  }

  @Test
  void aHeaderRoundTripsAndVerifies() throws VerificationException {
    RequestSignature s = signed();
    RequestSignature back = RequestSignature.parse(s.toHeader());
    assertEquals(s.key(), back.key());
    assertEquals(NOW, back.timeMillis());
    assertArrayEquals(s.nonce(), back.nonce());
    assertArrayEquals(s.signature(), back.signature());
    back.verify("POST", "/v1/manifests/x/infer?a=1", BODY, NOW + 1000);
  }

  @Test
  void theSameRequestSignedTwiceAtTheSameTimeGivesTwoRequests() {
    RequestSignature a = signed();
    RequestSignature b = signed();
    assertNotEquals(Hash.of(a.nonce()), Hash.of(b.nonce()));
    assertNotEquals(a.replayKey(), b.replayKey());
    assertNotEquals(Hash.of(a.signature()), Hash.of(b.signature()));
  }

  @Test
  void everySignedPartIsBound() {
    RequestSignature s = RequestSignature.parse(signed().toHeader());
    assertThrows(VerificationException.class, () -> s.verify("GET", "/v1/manifests/x/infer?a=1", BODY, NOW));
    assertThrows(VerificationException.class, () -> s.verify("POST", "/v1/manifests/x/infer?a=2", BODY, NOW));
    assertThrows(VerificationException.class, () -> s.verify("POST", "/v1/manifests/x/infer?a=1", Hash.of(new byte[0]), NOW));
    byte[] otherNonce = s.nonce();
    otherNonce[3] ^= 0x40;
    RequestSignature movedNonce = new RequestSignature(s.key(), NOW, otherNonce, s.signature());
    assertThrows(VerificationException.class, () -> movedNonce.verify("POST", "/v1/manifests/x/infer?a=1", BODY, NOW));
    RequestSignature movedTime = new RequestSignature(s.key(), NOW + 1, s.nonce(), s.signature());
    assertThrows(VerificationException.class, () -> movedTime.verify("POST", "/v1/manifests/x/infer?a=1", BODY, NOW));
    RequestSignature otherKey = new RequestSignature(Signer.generate().publicKey(), NOW, s.nonce(), s.signature());
    assertThrows(VerificationException.class, () -> otherKey.verify("POST", "/v1/manifests/x/infer?a=1", BODY, NOW));
  }

  @Test
  void aTimeOutsideTheSkewIsRefused() {
    RequestSignature s = signed();
    assertThrows(VerificationException.class,
        () -> s.verify("POST", "/v1/manifests/x/infer?a=1", BODY, NOW + RequestSignature.MAX_SKEW_MILLIS + 1));
    assertThrows(VerificationException.class,
        () -> s.verify("POST", "/v1/manifests/x/infer?a=1", BODY, NOW - RequestSignature.MAX_SKEW_MILLIS - 1));
  }

  @Test
  void malformedHeadersAreRefusedWithTheirReason() {
    String good = signed().toHeader();
    String b64 = Base64.getUrlEncoder().withoutPadding().encodeToString(new byte[RequestSignature.NONCE_BYTES]);
    String key = KEY.publicKey().toString();
    List<List<String>> cases = List.of(
        List.of(good.replace(",nonce=", ",nonse="), "unknown Authorization parameter"),
        List.of("Verity-Ed25519 key=" + key + ",time=" + NOW + ",sig=AA", "needs key, time, nonce and sig"),
        List.of("Verity-Ed25519 key=" + key + ",time=" + NOW + ",nonce=AAAA,sig=AA", "nonce must be 16 bytes"),
        List.of("Verity-Ed25519 key=" + key + ",time=" + NOW + ",nonce=***,sig=AA", "nonce must be base64url"),
        List.of("Verity-Ed25519 key=" + key + ",time=" + NOW + ",nonce=" + b64 + ",nonce=" + b64 + ",sig=AA",
            "given twice"),
        List.of("Verity-Ed25519 key=" + key + ",time=1,time=2,nonce=" + b64 + ",sig=AA", "given twice"),
        List.of("Bearer x", "scheme"),
        List.of("Verity-Ed25519 " + "k".repeat(600), "scheme"));
    for (List<String> c : cases) {
      DecodingException e = assertThrows(DecodingException.class, () -> RequestSignature.parse(c.get(0)), c.get(0));
      assertTrue(e.getMessage().contains(c.get(1)), c.get(0) + " -> " + e.getMessage());
    }
    assertThrows(IllegalArgumentException.class,
        () -> RequestSignature.sign(KEY, "POST", "/", NOW, new byte[15], BODY));
  }

  @Test
  void everyTruncationOfAGoodHeaderIsRefusedOrFailsToVerify() {
    String good = signed().toHeader();
    for (int n = 0; n < good.length(); n++) {
      String cut = good.substring(0, n);
      try {
        RequestSignature.parse(cut).verify("POST", "/v1/manifests/x/infer?a=1", BODY, NOW);
        throw new AssertionError("a truncated header verified: " + cut);
      } catch (DecodingException | VerificationException expected) {
        // refused, as it must be
      }
    }
  }

  @Property(tries = 300)
  void randomHeadersNeverParseIntoSomethingThatVerifies(@ForAll @StringLength(max = 700) String tail) {
    try {
      RequestSignature.parse("Verity-Ed25519 " + tail).verify("POST", "/", BODY, NOW);
      throw new AssertionError("random text verified: " + tail);
    } catch (DecodingException | VerificationException expected) {
      // refused
    }
  }
}
