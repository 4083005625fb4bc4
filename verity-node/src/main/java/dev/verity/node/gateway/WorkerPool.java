package dev.verity.node.gateway;

import dev.verity.core.Cid;
import dev.verity.core.crypto.Address;
import dev.verity.ledger.NodeRole;
import dev.verity.node.http.ApiException;
import dev.verity.node.net.Peer;
import dev.verity.node.net.PeerDirectory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import java.util.random.RandomGenerator;

/**
 * The workers a gateway may send a model's requests to, and how much each is doing now. {@link
 * #acquire} picks a live worker serving the model with spare capacity (fewer requests outstanding
 * from this gateway than the capacity it registered), choosing by stake and load: two candidates
 * are drawn with probability proportional to their stake and the one with fewer outstanding
 * requests relative to its capacity wins (the first drawn on a tie). Idle workers thus get work in
 * proportion to stake, and a busy worker is passed over for a less busy one.
 *
 * <p>When every such worker is at capacity the request waits, bounded in time, for one to free up;
 * it is never queued without bound. A worker that failed or answered something false is avoided for
 * a while ({@link #avoid}). Thread-safe.
 */
public final class WorkerPool {
  /** How long a worker that could not be reached or failed is left out. */
  public static final Duration AFTER_FAILURE = Duration.ofSeconds(2);
  /** How long a worker that returned a false receipt or outputs is left out. */
  public static final Duration AFTER_FORGERY = Duration.ofMinutes(5);

  private final PeerDirectory peers;
  private final RandomGenerator random;
  private final LongSupplier nanoTime;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition freed = lock.newCondition();
  private final Map<Address, Integer> outstanding = new HashMap<>(); // guarded by lock
  private final Map<Address, Long> avoidedUntil = new HashMap<>(); // guarded by lock

  /**
   * @param random draws the stake-weighted candidates (seeded in tests)
   * @param nanoTime the monotonic clock for waits and avoidance
   */
  public WorkerPool(PeerDirectory peers, RandomGenerator random, LongSupplier nanoTime) {
    this.peers = Objects.requireNonNull(peers, "peers");
    this.random = Objects.requireNonNull(random, "random");
    this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
  }

  public WorkerPool(PeerDirectory peers) {
    this(peers, RandomGenerator.of("L64X128MixRandom"), System::nanoTime);
  }

  /** One request's hold on one worker's capacity; {@link #close} gives it back. */
  public final class Lease implements AutoCloseable {
    private final Peer peer;
    private boolean closed;

    private Lease(Peer peer) {
      this.peer = peer;
    }

    public Peer peer() {
      return peer;
    }

    @Override
    public void close() {
      lock.lock();
      try {
        if (closed) {
          return;
        }
        closed = true;
        outstanding.merge(peer.address(), -1, (a, b) -> a + b == 0 ? null : a + b);
        freed.signalAll();
      } finally {
        lock.unlock();
      }
    }
  }

  /**
   * A worker for {@code model} whose address is {@code eligible}, holding one unit of its capacity.
   *
   * @param eligible which workers may be chosen (for example: not tried yet for this request)
   * @param wait longest to wait for a worker with spare capacity
   * @throws ApiException 503 with Retry-After when no live worker serves the model (other than those
   *     tried or avoided), or when all of them stayed at capacity for {@code wait}
   * @throws InterruptedException if interrupted while waiting
   */
  public Lease acquire(Cid model, Predicate<Address> eligible, Duration wait) throws InterruptedException {
    long end = nanoTime.getAsLong() + wait.toNanos();
    lock.lock();
    try {
      while (true) {
        List<Peer> candidates = candidates(model, eligible);
        if (candidates.isEmpty()) {
          throw ApiException.retryLater(503, "no-worker", "No worker available",
              "no live worker serves model " + model + " (none that this request may still use); retry after"
                  + " the Retry-After delay"
                  + " (workers register and recover within seconds)", 1);
        }
        List<Peer> free = new ArrayList<>();
        for (Peer p : candidates) {
          if (load(p) < p.capacity()) {
            free.add(p);
          }
        }
        if (!free.isEmpty()) {
          Peer chosen = choose(free);
          outstanding.merge(chosen.address(), 1, Integer::sum);
          return new Lease(chosen);
        }
        long left = end - nanoTime.getAsLong();
        if (left <= 0) {
          throw ApiException.retryLater(503, "overloaded", "All workers busy",
              "every worker serving model " + model + " (" + candidates.size() + ") is at capacity; retry after"
                  + " the Retry-After delay with the same request id", 1);
        }
        // Woken when a lease ends; the peer list is re-read as well, since workers come and go.
        freed.awaitNanos(Math.min(left, TimeUnit.MILLISECONDS.toNanos(100)));
      }
    } finally {
      lock.unlock();
    }
  }

  /** Leaves {@code worker} out of new choices for {@code period}. */
  public void avoid(Address worker, Duration period) {
    lock.lock();
    try {
      long until = nanoTime.getAsLong() + period.toNanos();
      avoidedUntil.merge(worker, until, Math::max);
    } finally {
      lock.unlock();
    }
  }

  /** Requests this gateway has outstanding at {@code worker} now. */
  public int outstanding(Address worker) {
    lock.lock();
    try {
      return outstanding.getOrDefault(worker, 0);
    } finally {
      lock.unlock();
    }
  }

  /** The live workers serving {@code model}, whether avoided or not (for resolving manifests). */
  public List<Peer> workersFor(Cid model) {
    return peers.live().stream().filter(p -> p.has(NodeRole.WORKER) && p.serves(model)).toList();
  }

  /** The directory this pool reads. */
  public PeerDirectory directory() {
    return peers;
  }

  private List<Peer> candidates(Cid model, Predicate<Address> eligible) {
    long now = nanoTime.getAsLong();
    avoidedUntil.values().removeIf(until -> until - now <= 0);
    List<Peer> out = new ArrayList<>();
    for (Peer p : peers.live()) {
      if (p.has(NodeRole.WORKER) && p.serves(model) && eligible.test(p.address())
          && !avoidedUntil.containsKey(p.address())) {
        out.add(p);
      }
    }
    return out;
  }

  private int load(Peer p) {
    return outstanding.getOrDefault(p.address(), 0);
  }

  /** Two stake-weighted draws, the less loaded (relative to capacity) wins; the first on a tie. */
  private Peer choose(List<Peer> free) {
    Peer a = draw(free, null);
    if (free.size() == 1) {
      return a;
    }
    Peer b = draw(free, a);
    // load(b) / cap(b) < load(a) / cap(a), without division
    return (long) load(b) * a.capacity() < (long) load(a) * b.capacity() ? b : a;
  }

  private Peer draw(List<Peer> free, Peer except) {
    long total = 0;
    for (Peer p : free) {
      if (p != except) {
        total += weight(p);
      }
    }
    long r = random.nextLong(total);
    for (Peer p : free) {
      if (p == except) {
        continue;
      }
      r -= weight(p);
      if (r < 0) {
        return p;
      }
    }
    throw new IllegalStateException("no peer drawn");
  }

  /** A peer's weight: its stake, at least 1 so that an unstaked worker still gets a little work. */
  private static long weight(Peer p) {
    return Math.max(1, Math.min(p.stake(), Long.MAX_VALUE / 1_000_000));
  }
}
