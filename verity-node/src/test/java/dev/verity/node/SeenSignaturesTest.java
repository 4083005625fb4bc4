package dev.verity.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.Hash;
import dev.verity.core.crypto.Signer;
import dev.verity.protocol.RequestSignature;
import org.junit.jupiter.api.Test;

class SeenSignaturesTest {
  static final Signer KEY = Signer.generate();
  static final long NOW = 1_800_000_000_000L;

  static RequestSignature sig(String path, long time) {
    return RequestSignature.sign(KEY, "POST", path, time, Hash.of(new byte[0]));
  }

  @Test
  void aSignatureIsAcceptedOnceWhileItsTimeIsWithinTheSkew() {
    SeenSignatures seen = new SeenSignatures(100);
    RequestSignature once = sig("/a", NOW);
    assertTrue(seen.firstUse(once, NOW));
    assertFalse(seen.firstUse(once, NOW + 1), "the same signed request again");
    assertFalse(seen.firstUse(once, NOW + RequestSignature.MAX_SKEW_MILLIS), "still within the window");
    assertTrue(seen.firstUse(sig("/a", NOW + 1), NOW + 1), "signed afresh: a new signature");
    assertTrue(seen.firstUse(sig("/b", NOW), NOW + 1), "another request at the same time");
  }

  @Test
  void oneKeyMaySendTheSameRequestTwiceInOneMillisecond() {
    SeenSignatures seen = new SeenSignatures(100);
    for (int i = 0; i < 50; i++) {
      assertTrue(seen.firstUse(sig("/same", NOW), NOW), "each signing draws a fresh nonce");
    }
  }

  @Test
  void aRequestIsKnownByKeyAndNonceNotBySignatureBytes() {
    SeenSignatures seen = new SeenSignatures(100);
    byte[] nonce = new byte[RequestSignature.NONCE_BYTES];
    RequestSignature first = RequestSignature.sign(KEY, "POST", "/a", NOW, nonce, Hash.of(new byte[0]));
    assertTrue(seen.firstUse(first, NOW));
    byte[] otherBytes = first.signature();
    otherBytes[0] ^= 1;
    assertFalse(seen.firstUse(new RequestSignature(KEY.publicKey(), NOW, nonce, otherBytes), NOW),
        "same key and nonce: refused whatever the signature bytes");
    assertTrue(seen.firstUse(RequestSignature.sign(Signer.generate(), "POST", "/a", NOW, nonce, Hash.of(new byte[0])), NOW),
        "another key's nonces are its own");
  }

  @Test
  void signaturesPastTheirWindowAreForgotten() {
    SeenSignatures seen = new SeenSignatures(100);
    for (int i = 0; i < 10; i++) {
      assertTrue(seen.firstUse(sig("/p" + i, NOW), NOW));
    }
    assertEquals(10, seen.size());
    seen.firstUse(sig("/later", NOW + RequestSignature.MAX_SKEW_MILLIS + 1), NOW + RequestSignature.MAX_SKEW_MILLIS + 1);
    assertEquals(1, seen.size(), "a node refuses those for their age now, so it need not keep them");
  }

  @Test
  void memoryIsBoundedByForgettingTheOldestFirst() {
    SeenSignatures seen = new SeenSignatures(3);
    RequestSignature[] sent = new RequestSignature[5];
    for (int i = 0; i < 5; i++) {
      sent[i] = sig("/p" + i, NOW);
      assertTrue(seen.firstUse(sent[i], NOW));
    }
    assertEquals(3, seen.size());
    assertFalse(seen.firstUse(sent[4], NOW), "the newest are still known");
    assertTrue(seen.firstUse(sent[0], NOW), "the oldest was forgotten to stay within capacity");
    assertThrows(IllegalArgumentException.class, () -> new SeenSignatures(0));
  }
}
