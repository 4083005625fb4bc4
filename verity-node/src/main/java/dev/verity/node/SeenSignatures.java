package dev.verity.node;

import dev.verity.core.Hash;
import dev.verity.protocol.RequestSignature;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * The request signatures this node has accepted on state-changing requests, so that none is
 * accepted twice: a captured request sent again (a replay) is refused while its signature's time is
 * still within the skew a node allows ({@link RequestSignature#MAX_SKEW_MILLIS}); after that the
 * signature is refused for its age anyway and is forgotten. A signed request is known by its signer's
 * key and nonce ({@link RequestSignature#replayKey()}), not by its signature bytes, so that a
 * signature re-encoded over the same request is no new request, while one key may send the same
 * request many times, each signed with a fresh nonce.
 *
 * <p>Memory is bounded: at most {@code capacity} signatures are held; past that the oldest accepted
 * one is forgotten first (a replay of it within its window would then go unnoticed, which takes
 * more than {@code capacity} signed requests in five minutes). Thread-safe.
 */
final class SeenSignatures {
  static final int DEFAULT_CAPACITY = 200_000;

  private record Seen(Hash replayKey, long forgetAfterMillis) {}

  private final int capacity;
  private final Map<Hash, Seen> seen = new HashMap<>();
  private final ArrayDeque<Seen> order = new ArrayDeque<>();

  SeenSignatures(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be positive, got " + capacity);
    }
    this.capacity = capacity;
  }

  /**
   * Records {@code sig} as used now; false if it was used before (a replay).
   *
   * @param nowMillis this node's clock
   */
  synchronized boolean firstUse(RequestSignature sig, long nowMillis) {
    while (!order.isEmpty() && order.peekFirst().forgetAfterMillis() < nowMillis) {
      seen.remove(order.pollFirst().replayKey());
    }
    Hash key = sig.replayKey();
    if (seen.containsKey(key)) {
      return false;
    }
    while (seen.size() >= capacity) {
      seen.remove(order.pollFirst().replayKey());
    }
    Seen s = new Seen(key, sig.timeMillis() + RequestSignature.MAX_SKEW_MILLIS);
    seen.put(key, s);
    order.addLast(s);
    return true;
  }

  synchronized int size() {
    return seen.size();
  }
}
