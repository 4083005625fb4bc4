package dev.verity.ledger;

import dev.verity.core.crypto.PublicKey;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Sender keys seen recently, one object per key, so that the tables batch verification builds for
 * a key ({@code BatchVerifier}) are built once and reused by every later transaction of that
 * sender, even when each transaction arrived as bytes and was decoded with its own key object.
 * Bounded: when it holds {@code capacity} keys it starts afresh. Thread-safe.
 */
final class KnownKeys {
  private final int capacity;
  private final ConcurrentHashMap<PublicKey, PublicKey> keys = new ConcurrentHashMap<>();

  KnownKeys(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be positive, got " + capacity);
    }
    this.capacity = capacity;
  }

  /** The key object kept for {@code key}'s bytes: the first one seen, or {@code key} itself. */
  PublicKey canonical(PublicKey key) {
    PublicKey known = keys.putIfAbsent(key, key);
    if (known != null) {
      return known;
    }
    if (keys.size() > capacity) {
      keys.clear();
    }
    return key;
  }
}
