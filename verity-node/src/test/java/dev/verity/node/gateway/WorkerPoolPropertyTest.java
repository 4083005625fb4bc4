package dev.verity.node.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.node.http.ApiException;
import dev.verity.node.net.Peer;
import dev.verity.node.net.PeerDirectory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/** Whatever the stakes, capacities and order of requests: capacity is never exceeded and never wasted. */
class WorkerPoolPropertyTest {
  @Property(tries = 200)
  void neverExceedsAWorkersCapacityAndRefusesOnlyWhenEveryWorkerIsFull(
      @ForAll @Size(min = 1, max = 5) List<@IntRange(min = 1, max = 4) Integer> capacities,
      @ForAll @Size(min = 1, max = 5) List<@IntRange(min = 0, max = 1000) Integer> stakes,
      @ForAll @Size(max = 60) List<Boolean> acquireOrRelease,
      @ForAll long seed) throws Exception {
    List<Peer> peers = new ArrayList<>();
    for (int i = 0; i < capacities.size(); i++) {
      peers.add(WorkerPoolTest.worker(stakes.get(i % stakes.size()), capacities.get(i)));
    }
    WorkerPool pool = new WorkerPool(PeerDirectory.of(peers), new SplittableRandom(seed), System::nanoTime);
    int total = capacities.stream().mapToInt(Integer::intValue).sum();
    List<WorkerPool.Lease> held = new ArrayList<>();
    SplittableRandom pick = new SplittableRandom(seed);
    for (boolean acquire : acquireOrRelease) {
      if (acquire) {
        try {
          held.add(pool.acquire(WorkerPoolTest.MODEL, a -> true, Duration.ZERO));
        } catch (ApiException e) {
          assertEquals(total, held.size(), "refused while a worker had a free slot");
          assertEquals(503, e.status());
          assertTrue(e.retryAfterSeconds() >= 0);
        }
      } else if (!held.isEmpty()) {
        held.remove(pick.nextInt(held.size())).close();
      }
      for (Peer p : peers) {
        assertTrue(pool.outstanding(p.address()) <= p.capacity(), "over capacity: " + p);
      }
      assertEquals(held.size(), peers.stream().mapToInt(p -> pool.outstanding(p.address())).sum());
    }
    held.forEach(WorkerPool.Lease::close);
    for (Peer p : peers) {
      assertEquals(0, pool.outstanding(p.address()));
    }
  }
}
