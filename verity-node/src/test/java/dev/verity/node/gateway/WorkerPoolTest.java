package dev.verity.node.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.Cid;
import dev.verity.core.crypto.Address;
import dev.verity.core.crypto.Signer;
import dev.verity.ledger.NodeRole;
import dev.verity.node.http.ApiException;
import dev.verity.node.net.Peer;
import dev.verity.node.net.PeerDirectory;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class WorkerPoolTest {
  static final Cid MODEL = Cid.raw("model".getBytes(StandardCharsets.UTF_8));
  static final Cid OTHER = Cid.raw("other".getBytes(StandardCharsets.UTF_8));

  static Peer worker(long stake, long capacity, Set<NodeRole> roles, Cid... models) {
    Address a = Signer.generate().address();
    return new Peer(a, URI.create("http://127.0.0.1:1"), roles, Set.of(models), stake, capacity);
  }

  static Peer worker(long stake, long capacity) {
    return worker(stake, capacity, Set.of(NodeRole.WORKER), MODEL);
  }

  static WorkerPool pool(Peer... peers) {
    return new WorkerPool(PeerDirectory.of(List.of(peers)), new SplittableRandom(42), System::nanoTime);
  }

  @Test
  void spreadsIdleWorkInProportionToStake() throws Exception {
    Peer big = worker(300, 8);
    Peer small = worker(100, 8);
    WorkerPool pool = pool(big, small);
    Map<Address, Integer> chosen = new HashMap<>();
    for (int i = 0; i < 4000; i++) {
      try (WorkerPool.Lease l = pool.acquire(MODEL, a -> true, Duration.ZERO)) {
        chosen.merge(l.peer().address(), 1, Integer::sum);
      }
    }
    double share = chosen.get(big.address()) / 4000.0;
    assertTrue(share > 0.70 && share < 0.80, "the worker with 3/4 of the stake got " + share + " of the work");
  }

  @Test
  void passesOverABusyWorkerForAnIdleOneWhateverTheStake() throws Exception {
    Peer big = worker(1_000_000, 4);
    Peer small = worker(1, 4);
    WorkerPool pool = pool(big, small);
    List<WorkerPool.Lease> held = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      held.add(pool.acquire(MODEL, a -> a.equals(big.address()), Duration.ZERO));
    }
    for (int i = 0; i < 50; i++) {
      try (WorkerPool.Lease l = pool.acquire(MODEL, a -> true, Duration.ZERO)) {
        assertEquals(small.address(), l.peer().address(), "request " + i + " went to the worker with 3 of 4 slots busy");
      }
    }
    held.forEach(WorkerPool.Lease::close);
    assertEquals(0, pool.outstanding(big.address()));
  }

  @Test
  void refusesWithRetryAfterWhenEveryWorkerIsAtCapacity() throws Exception {
    Peer a = worker(1, 1);
    Peer b = worker(1, 1);
    WorkerPool pool = pool(a, b);
    try (WorkerPool.Lease x = pool.acquire(MODEL, p -> true, Duration.ZERO);
        WorkerPool.Lease y = pool.acquire(MODEL, p -> true, Duration.ZERO)) {
      ApiException e = assertThrows(ApiException.class, () -> pool.acquire(MODEL, p -> true, Duration.ofMillis(20)));
      assertEquals(503, e.status());
      assertEquals("overloaded", e.type());
      assertEquals(1, e.retryAfterSeconds());
      assertTrue(x.peer() != y.peer());
    }
  }

  @Test
  void aWaitingRequestTakesTheSlotAFinishedOneFrees() throws Exception {
    Peer only = worker(1, 1);
    WorkerPool pool = pool(only);
    WorkerPool.Lease first = pool.acquire(MODEL, p -> true, Duration.ZERO);
    CompletableFuture<WorkerPool.Lease> second = CompletableFuture.supplyAsync(() -> {
      try {
        return pool.acquire(MODEL, p -> true, Duration.ofSeconds(30));
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
    assertEquals(1, pool.outstanding(only.address()));
    first.close();
    try (WorkerPool.Lease l = second.get(30, TimeUnit.SECONDS)) {
      assertEquals(only.address(), l.peer().address());
      assertEquals(1, pool.outstanding(only.address()));
    }
    first.close(); // closing twice gives back one slot only
    assertEquals(0, pool.outstanding(only.address()));
  }

  @Test
  void choosesOnlyLiveWorkersThatServeTheModel() throws Exception {
    Peer hub = worker(1_000, 8, Set.of(NodeRole.HUB), MODEL);
    Peer elsewhere = worker(1_000, 8, Set.of(NodeRole.WORKER), OTHER);
    Peer right = worker(1, 8);
    WorkerPool pool = pool(hub, elsewhere, right);
    for (int i = 0; i < 20; i++) {
      try (WorkerPool.Lease l = pool.acquire(MODEL, p -> true, Duration.ZERO)) {
        assertEquals(right.address(), l.peer().address());
      }
    }
    ApiException e = assertThrows(ApiException.class,
        () -> pool.acquire(Cid.raw(new byte[] {1}), p -> true, Duration.ZERO));
    assertEquals(503, e.status());
    assertEquals("no-worker", e.type());
  }

  @Test
  void leavesOutAnAvoidedWorkerAndOnesTheRequestTriedAlready() throws Exception {
    Peer a = worker(1_000, 8);
    Peer b = worker(1, 8);
    Peer c = worker(1, 8);
    WorkerPool pool = pool(a, b, c);
    pool.avoid(a.address(), Duration.ofMinutes(5));
    for (int i = 0; i < 20; i++) {
      try (WorkerPool.Lease l = pool.acquire(MODEL, p -> !p.equals(b.address()), Duration.ZERO)) {
        assertEquals(c.address(), l.peer().address());
      }
    }
    assertThrows(ApiException.class, () -> pool.acquire(MODEL, p -> p.equals(a.address()), Duration.ZERO));
  }
}
