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

  /**
   * The compact index against the plain model it replaces (a map and a queue in acceptance order),
   * over random runs of fresh signatures, replays of earlier ones and moving clocks, at capacities
   * small enough that the ring wraps, grows, evicts and the index probes collide all the time.
   */
  @net.jqwik.api.Property(tries = 200)
  void behavesLikeAMapWithAQueue(@net.jqwik.api.ForAll @net.jqwik.api.constraints.IntRange(min = 1, max = 40) int capacity,
      @net.jqwik.api.ForAll("operations") java.util.List<Integer> ops) {
    againstTheModel(capacity, ops);
  }

  @Test
  void growsWhileTheRingHasWrappedAndStillAgreesWithTheModel() {
    java.util.Random random = new java.util.Random(5);
    java.util.List<Integer> ops = new java.util.ArrayList<>();
    for (int i = 0; i < 30_000; i++) {
      ops.add(random.nextInt(400) == 0 ? -1 - random.nextInt(20) : random.nextInt(1000));
    }
    againstTheModel(3000, ops);
  }

  static void againstTheModel(int capacity, java.util.List<Integer> ops) {
    SeenSignatures seen = new SeenSignatures(capacity);
    java.util.Map<Hash, Long> model = new java.util.HashMap<>();
    java.util.ArrayDeque<Hash> order = new java.util.ArrayDeque<>();
    java.util.List<RequestSignature> sent = new java.util.ArrayList<>();
    long now = NOW;
    for (int op : ops) {
      RequestSignature s;
      if (op < 0) {
        now += (long) -op * 20_000; // the clock moves on, by up to ten minutes
        continue;
      } else if (op % 3 == 0 || sent.isEmpty()) {
        s = sig("/p", now - (op % 7) * 1000);
        sent.add(s);
      } else {
        s = sent.get(op % sent.size()); // a replay of an earlier one
      }
      while (!order.isEmpty() && model.get(order.peekFirst()) < now) {
        model.remove(order.pollFirst());
      }
      boolean expected = !model.containsKey(s.replayKey());
      if (expected) {
        if (model.size() == capacity) {
          model.remove(order.pollFirst());
        }
        model.put(s.replayKey(), s.timeMillis() + RequestSignature.MAX_SKEW_MILLIS);
        order.addLast(s.replayKey());
      }
      assertEquals(expected, seen.firstUse(s, now));
      assertEquals(model.size(), seen.size());
    }
  }

  @net.jqwik.api.Provide
  net.jqwik.api.Arbitrary<java.util.List<Integer>> operations() {
    return net.jqwik.api.Arbitraries.oneOf(net.jqwik.api.Arbitraries.integers().between(0, 1000),
        net.jqwik.api.Arbitraries.integers().between(-30, -1)).list().ofMaxSize(400);
  }

  @Test
  void holdsItsFullCapacity() {
    SeenSignatures seen = new SeenSignatures(5000);
    RequestSignature[] sent = new RequestSignature[5000];
    for (int i = 0; i < sent.length; i++) {
      sent[i] = sig("/p", NOW);
      assertTrue(seen.firstUse(sent[i], NOW));
    }
    assertEquals(5000, seen.size());
    for (RequestSignature s : sent) {
      assertFalse(seen.firstUse(s, NOW), "every one is still known at capacity");
    }
  }
}
