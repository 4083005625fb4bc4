package dev.verity.node.replica;

import java.time.Duration;
import java.util.Objects;

/**
 * How a node fetches models it does not have from its peers, keeps them, and serves its own blocks
 * to other nodes (keys {@code replica.*}, docs/CONFIG.md).
 *
 * @param cacheBytes disk budget for models replicated from peers; the least recently used are
 *     evicted to make room. Models this node published, and models in use, are never evicted.
 * @param parallelFetches chunks fetched at once while replicating one model (each holds at most one
 *     1 MiB chunk in memory)
 * @param peersOnly whether this node serves model blocks only to callers whose signature belongs to
 *     a registered live node ({@link dev.verity.node.net.PeerAuth}); private models are always
 *     served to allowed callers only, whatever this says
 * @param badPeerPenalty how long a peer that served wrong bytes is avoided
 * @param fetchTimeout longest one request to a peer may take before the next peer is asked
 * @param yankCheck how often this node asks its peers whether a version it holds was yanked (a
 *     yank is also pushed to live peers when it happens; this catches nodes that were down then);
 *     zero: never
 */
public record ReplicaSettings(
    long cacheBytes,
    int parallelFetches,
    boolean peersOnly,
    Duration badPeerPenalty,
    Duration fetchTimeout,
    Duration yankCheck) {

  public static final long DEFAULT_CACHE_BYTES = 16L << 30;
  public static final int DEFAULT_PARALLEL_FETCHES = 4;
  public static final Duration DEFAULT_BAD_PEER_PENALTY = Duration.ofMinutes(10);
  public static final Duration DEFAULT_FETCH_TIMEOUT = Duration.ofSeconds(30);
  public static final Duration DEFAULT_YANK_CHECK = Duration.ofSeconds(60);

  /** The defaults documented in docs/CONFIG.md. */
  public static final ReplicaSettings DEFAULTS = new ReplicaSettings(DEFAULT_CACHE_BYTES,
      DEFAULT_PARALLEL_FETCHES, false, DEFAULT_BAD_PEER_PENALTY, DEFAULT_FETCH_TIMEOUT, DEFAULT_YANK_CHECK);

  public ReplicaSettings {
    Objects.requireNonNull(badPeerPenalty, "badPeerPenalty");
    Objects.requireNonNull(fetchTimeout, "fetchTimeout");
    Objects.requireNonNull(yankCheck, "yankCheck");
    if (yankCheck.isNegative()) {
      throw new IllegalArgumentException("replica.yank_check_seconds must not be negative");
    }
    if (cacheBytes < 0) {
      throw new IllegalArgumentException("replica.cache_bytes must not be negative, got " + cacheBytes);
    }
    if (parallelFetches < 1 || parallelFetches > 64) {
      throw new IllegalArgumentException("replica.parallel_fetches must be 1..64, got " + parallelFetches);
    }
    if (badPeerPenalty.isNegative()) {
      throw new IllegalArgumentException("replica.bad_peer_seconds must not be negative");
    }
    if (fetchTimeout.isNegative() || fetchTimeout.isZero()) {
      throw new IllegalArgumentException("replica.fetch_timeout_millis must be positive");
    }
  }

  public ReplicaSettings withCacheBytes(long bytes) {
    return new ReplicaSettings(bytes, parallelFetches, peersOnly, badPeerPenalty, fetchTimeout, yankCheck);
  }

  public ReplicaSettings withParallelFetches(int n) {
    return new ReplicaSettings(cacheBytes, n, peersOnly, badPeerPenalty, fetchTimeout, yankCheck);
  }

  public ReplicaSettings withPeersOnly(boolean only) {
    return new ReplicaSettings(cacheBytes, parallelFetches, only, badPeerPenalty, fetchTimeout, yankCheck);
  }

  public ReplicaSettings withFetchTimeout(Duration timeout) {
    return new ReplicaSettings(cacheBytes, parallelFetches, peersOnly, badPeerPenalty, timeout, yankCheck);
  }

  public ReplicaSettings withYankCheck(Duration every) {
    return new ReplicaSettings(cacheBytes, parallelFetches, peersOnly, badPeerPenalty, fetchTimeout, every);
  }
}
