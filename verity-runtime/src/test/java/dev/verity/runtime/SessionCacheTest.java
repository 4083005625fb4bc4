package dev.verity.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.Cid;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

class SessionCacheTest {
  static final byte[] ADD = TestModels.add();
  static final long ESTIMATE = (long) Math.ceil(ADD.length * SessionCache.DEFAULT_MEMORY_FACTOR);

  /** The real engine, counting loads and closes per model source size tag. */
  static final class CountingEngine implements InferenceEngine {
    final OnnxRuntimeEngine real = OnnxRuntimeEngine.create();
    final AtomicInteger loads = new AtomicInteger();
    final Map<LoadedModel, AtomicInteger> closes = new ConcurrentHashMap<>();

    @Override
    public String name() {
      return real.name();
    }

    @Override
    public String version() {
      return real.version();
    }

    @Override
    public LoadedModel load(ModelSource source, SessionConfig config) {
      LoadedModel m = real.load(source, config);
      loads.incrementAndGet();
      AtomicInteger closed = new AtomicInteger();
      LoadedModel counted = new LoadedModel() {
        @Override
        public ModelSignature signature() {
          return m.signature();
        }

        @Override
        public EngineInfo info() {
          return m.info();
        }

        @Override
        public NamedTensors run(NamedTensors inputs) {
          return m.run(inputs);
        }

        @Override
        public void close() {
          closed.incrementAndGet();
          m.close();
        }
      };
      closes.put(counted, closed);
      return counted;
    }

    int closesOf(LoadedModel m) {
      return closes.get(m).get();
    }

    @Override
    public void close() {}
  }

  static Cid cid(int i) {
    return Cid.raw(new byte[] {(byte) i});
  }

  static Supplier<ModelSource> addModel() {
    return () -> ModelSource.bytes(ADD);
  }

  static NamedTensors input(float v) {
    Tensor t = Tensor.ofFloats(new long[] {1, 3}, new float[] {v, v, v});
    return NamedTensors.of(Map.of("x", t, "y", t));
  }

  static SessionCache cache(CountingEngine engine, int models) {
    return new SessionCache(engine, TestModels.CONFIG, models * ESTIMATE);
  }

  @Test
  void loadsOnceAndServesLaterRequestsFromMemory() {
    CountingEngine engine = new CountingEngine();
    try (SessionCache cache = cache(engine, 2)) {
      assertEquals(2f, cache.run(cid(1), addModel(), input(1)).get("z").toFloats()[0]);
      assertEquals(6f, cache.run(cid(1), () -> { throw new AssertionError("must not reload"); }, input(3)).get("z").toFloats()[0]);
      assertEquals(1, engine.loads.get());
      assertEquals(ESTIMATE, cache.usedBytes());
    }
  }

  @Test
  void evictsTheLeastRecentlyUsedModelAndClosesIt() {
    CountingEngine engine = new CountingEngine();
    try (SessionCache cache = cache(engine, 2)) {
      LoadedModel a;
      LoadedModel b;
      try (var lease = cache.acquire(cid(1), addModel())) {
        a = lease.model();
      }
      try (var lease = cache.acquire(cid(2), addModel())) {
        b = lease.model();
      }
      cache.acquire(cid(1), addModel()).close(); // a is now the most recently used
      cache.acquire(cid(3), addModel()).close();
      assertTrue(cache.contains(cid(1)));
      assertFalse(cache.contains(cid(2)));
      assertTrue(cache.contains(cid(3)));
      assertEquals(1, engine.closesOf(b));
      assertEquals(0, engine.closesOf(a));
      assertEquals(2 * ESTIMATE, cache.usedBytes());
    }
  }

  @Test
  void keepsAnEvictedModelOpenUntilItsLastLeaseIsReleased() {
    CountingEngine engine = new CountingEngine();
    try (SessionCache cache = cache(engine, 1)) {
      SessionCache.Lease held = cache.acquire(cid(1), addModel());
      cache.acquire(cid(2), addModel()).close(); // evicts model 1, which is still leased
      assertFalse(cache.contains(cid(1)));
      assertEquals(0, engine.closesOf(held.model()));
      assertEquals(2f, held.model().run(input(1)).get("z").toFloats()[0]);
      assertEquals(2 * ESTIMATE, cache.usedBytes(), "the retiring model still counts");
      held.close();
      held.close();
      assertEquals(1, engine.closesOf(held.model()));
      assertEquals(ESTIMATE, cache.usedBytes());
    }
  }

  @Test
  void prefersEvictingIdleModelsOverBusyOnes() {
    CountingEngine engine = new CountingEngine();
    try (SessionCache cache = cache(engine, 2)) {
      SessionCache.Lease busy = cache.acquire(cid(1), addModel()); // least recently used, but busy
      cache.acquire(cid(2), addModel()).close();
      cache.acquire(cid(3), addModel()).close();
      assertTrue(cache.contains(cid(1)));
      assertFalse(cache.contains(cid(2)));
      busy.close();
    }
  }

  @Test
  void refusesAModelThatCanNeverFitTheBudget() {
    CountingEngine engine = new CountingEngine();
    try (SessionCache cache = new SessionCache(engine, TestModels.CONFIG, ESTIMATE - 1)) {
      var e = assertThrows(ModelLoadException.class, () -> cache.acquire(cid(1), addModel()));
      assertTrue(e.getMessage().contains("more than the whole cache budget"), e.getMessage());
      assertEquals(0, engine.loads.get());
      assertEquals(0, cache.usedBytes());
    }
  }

  @Test
  void doesNotCacheAFailedLoadAndTriesAgainNextTime() {
    CountingEngine engine = new CountingEngine();
    try (SessionCache cache = cache(engine, 2)) {
      assertThrows(ModelLoadException.class, () -> cache.acquire(cid(1), () -> ModelSource.bytes(new byte[] {1, 2, 3})));
      assertFalse(cache.contains(cid(1)));
      assertEquals(0, cache.usedBytes());
      cache.acquire(cid(1), addModel()).close();
      assertEquals(1, engine.loads.get());
    }
  }

  @Test
  void sharesOneLoadBetweenConcurrentRequests() throws Exception {
    CountingEngine engine = new CountingEngine();
    ExecutorService pool = Executors.newFixedThreadPool(5);
    try (SessionCache cache = cache(engine, 2)) {
      CountDownLatch loading = new CountDownLatch(1);
      CountDownLatch proceed = new CountDownLatch(1);
      AtomicInteger sourceCalls = new AtomicInteger();
      Supplier<ModelSource> slow = () -> {
        sourceCalls.incrementAndGet();
        loading.countDown();
        try {
          proceed.await();
        } catch (InterruptedException e) {
          throw new IllegalStateException(e);
        }
        return ModelSource.bytes(ADD);
      };
      List<Future<Float>> results = new ArrayList<>();
      results.add(pool.submit(() -> cache.run(cid(7), slow, input(1)).get("z").toFloats()[0]));
      loading.await();
      List<Thread> waiters = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        float v = i + 2;
        results.add(pool.submit(() -> {
          synchronized (waiters) {
            waiters.add(Thread.currentThread());
          }
          return cache.run(cid(7), slow, input(v)).get("z").toFloats()[0];
        }));
      }
      // Let the load finish only once all four are waiting for it.
      while (true) {
        synchronized (waiters) {
          if (waiters.size() == 4 && waiters.stream().allMatch(t -> t.getState() == Thread.State.WAITING)) {
            break;
          }
        }
        Thread.onSpinWait();
      }
      proceed.countDown();
      for (int i = 0; i < results.size(); i++) {
        assertEquals(2f * (i + 1), results.get(i).get());
      }
      assertEquals(1, sourceCalls.get());
      assertEquals(1, engine.loads.get());
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void neverRunsOnAClosedModelUnderConcurrentEviction() throws Exception {
    CountingEngine engine = new CountingEngine();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try (SessionCache cache = cache(engine, 2)) {
      List<Future<?>> jobs = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        long seed = t;
        jobs.add(pool.submit(() -> {
          Random r = new Random(seed);
          for (int i = 0; i < 60; i++) {
            float v = r.nextInt(100);
            float z = cache.run(cid(r.nextInt(4)), addModel(), input(v)).get("z").toFloats()[0];
            assertEquals(2 * v, z);
          }
          return null;
        }));
      }
      for (Future<?> f : jobs) {
        f.get(); // an IllegalStateException from a closed model would surface here
      }
      assertTrue(cache.size() <= 2);
      assertTrue(cache.usedBytes() <= 2 * ESTIMATE);
      int open = 0;
      for (var e : engine.closes.entrySet()) {
        assertTrue(e.getValue().get() <= 1, "closed at most once");
        open += e.getValue().get() == 0 ? 1 : 0;
      }
      assertEquals(cache.size(), open, "every model not in the cache was closed");
    } finally {
      pool.shutdownNow();
    }
    for (var closed : engine.closes.values()) {
      assertEquals(1, closed.get(), "closing the cache closes every model exactly once");
    }
  }

  @Test
  void refusesNewLeasesAfterClose() {
    CountingEngine engine = new CountingEngine();
    SessionCache cache = cache(engine, 2);
    SessionCache.Lease lease = cache.acquire(cid(1), addModel());
    cache.close();
    assertEquals(0, engine.closesOf(lease.model()), "still leased");
    assertEquals(2f, lease.model().run(input(1)).get("z").toFloats()[0]);
    lease.close();
    assertEquals(1, engine.closesOf(lease.model()));
    assertThrows(IllegalStateException.class, () -> cache.acquire(cid(1), addModel()));
    assertEquals(0, cache.usedBytes());
  }
}
