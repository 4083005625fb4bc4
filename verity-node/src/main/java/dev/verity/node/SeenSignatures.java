package dev.verity.node;

import dev.verity.protocol.RequestSignature;
import java.nio.ByteBuffer;

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
 *
 * <p>Every accepted request is remembered for minutes, so this is kept out of the garbage collector's
 * way: 128 bits of each replay key and its expiry live in primitive arrays (a ring in the order of
 * acceptance, and an open-addressing index into it), about 30 bytes a signature, and remembering one
 * allocates nothing once the arrays have grown. Held as objects, the entries of the last few seconds
 * were copied by every young collection until promoted, which at a thousand requests a second was
 * most of each pause.
 */
final class SeenSignatures {
  static final int DEFAULT_CAPACITY = 200_000;
  private static final int INITIAL = 1024;

  private final int capacity;
  // ring of accepted signatures, oldest at head
  private long[] hi;
  private long[] lo;
  private long[] forgetAfter;
  private int head;
  private int size;
  // open addressing with linear probing: ring slot + 1, 0 = empty; never more than half full
  private int[] index;

  SeenSignatures(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be positive, got " + capacity);
    }
    this.capacity = capacity;
    allocate(Math.min(capacity, INITIAL));
  }

  /**
   * Records {@code sig} as used now; false if it was used before (a replay).
   *
   * @param nowMillis this node's clock
   */
  synchronized boolean firstUse(RequestSignature sig, long nowMillis) {
    while (size > 0 && forgetAfter[head] < nowMillis) {
      removeOldest();
    }
    ByteBuffer key = ByteBuffer.wrap(sig.replayKey().toBytes());
    long h = key.getLong();
    long l = key.getLong();
    if (find(h, l) >= 0) {
      return false;
    }
    if (size == hi.length) {
      if (hi.length < capacity) {
        allocate((int) Math.min(capacity, 2L * hi.length));
      } else {
        removeOldest();
      }
    }
    int slot = ring(size);
    hi[slot] = h;
    lo[slot] = l;
    forgetAfter[slot] = sig.timeMillis() + RequestSignature.MAX_SKEW_MILLIS;
    size++;
    insert(slot);
    return true;
  }

  synchronized int size() {
    return size;
  }

  private int ring(int i) {
    int s = head + i;
    return s >= hi.length ? s - hi.length : s;
  }

  private int home(long l) {
    long x = l * 0x9E3779B97F4A7C15L; // the key is a hash already; this only spreads its low bits
    return (int) (x >>> 32) & (index.length - 1);
  }

  /** The ring slot holding this key, or -1. */
  private int find(long h, long l) {
    int mask = index.length - 1;
    for (int p = home(l); index[p] != 0; p = (p + 1) & mask) {
      int slot = index[p] - 1;
      if (lo[slot] == l && hi[slot] == h) {
        return slot;
      }
    }
    return -1;
  }

  private void insert(int slot) {
    int mask = index.length - 1;
    int p = home(lo[slot]);
    while (index[p] != 0) {
      p = (p + 1) & mask;
    }
    index[p] = slot + 1;
  }

  private void removeOldest() {
    int slot = head;
    int mask = index.length - 1;
    int p = home(lo[slot]);
    while (index[p] != slot + 1) {
      p = (p + 1) & mask;
    }
    // backward-shift deletion: move later entries of the probe run into the gap where they belong
    int gap = p;
    for (int q = (gap + 1) & mask; index[q] != 0; q = (q + 1) & mask) {
      int want = home(lo[index[q] - 1]);
      boolean stays = gap <= q ? (want > gap && want <= q) : (want > gap || want <= q);
      if (!stays) {
        index[gap] = index[q];
        gap = q;
      }
    }
    index[gap] = 0;
    head = head + 1 == hi.length ? 0 : head + 1;
    size--;
  }

  /** Moves to arrays of {@code length} slots, oldest first, and rebuilds the index. */
  private void allocate(int length) {
    long[] h = new long[length];
    long[] l = new long[length];
    long[] f = new long[length];
    for (int i = 0; i < size; i++) {
      int s = ring(i);
      h[i] = hi[s];
      l[i] = lo[s];
      f[i] = forgetAfter[s];
    }
    hi = h;
    lo = l;
    forgetAfter = f;
    head = 0;
    index = new int[Integer.highestOneBit(length) << 2];
    for (int i = 0; i < size; i++) {
      insert(i);
    }
  }
}
