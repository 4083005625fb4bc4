package dev.verity.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The measuring loops. Paths are measured in rounds, each round running every path for the same
 * time in a rotating order, so slow phases of a shared machine (other processes, GC, JIT) fall on
 * all paths alike instead of on whichever ran at the time.
 */
final class Timing {
  /** Keeps results alive so the JIT cannot drop the work that produced them. */
  static volatile Object sink;

  private Timing() {}

  /** One request of a path; returns its result. */
  @FunctionalInterface
  interface Request {
    Object call() throws Exception;
  }

  /** Runs {@code request} back to back for about {@code millis}. */
  static void run(Request request, long millis) throws Exception {
    long end = System.nanoTime() + millis * 1_000_000L;
    do {
      sink = request.call();
    } while (System.nanoTime() < end);
  }

  /** Warms every path up, alternating between them, for about {@code millisPerPath} each. */
  static void warmUp(Map<String, Request> paths, long millisPerPath) throws Exception {
    int slices = 4;
    for (int s = 0; s < slices; s++) {
      for (Request r : paths.values()) {
        run(r, Math.max(1, millisPerPath / slices));
      }
    }
  }

  /** Measures each path in {@code rounds} rounds of about {@code millisPerRound} each. */
  static Map<String, Latencies> measure(Map<String, Request> paths, int rounds, long millisPerRound) throws Exception {
    List<String> names = new ArrayList<>(paths.keySet());
    Map<String, Latencies> out = new LinkedHashMap<>();
    names.forEach(n -> out.put(n, new Latencies()));
    for (int round = 0; round < rounds; round++) {
      for (int i = 0; i < names.size(); i++) {
        String name = names.get((i + round) % names.size());
        Request r = paths.get(name);
        Latencies l = out.get(name);
        long start = System.nanoTime();
        long end = start + millisPerRound * 1_000_000L;
        long now = start;
        do {
          long t0 = now;
          sink = r.call();
          now = System.nanoTime();
          l.record(now - t0);
        } while (now < end);
        l.addWallTime(now - start);
      }
    }
    return out;
  }

  /** Requests per second that {@code clients} threads issuing requests back to back complete. */
  static double throughput(Request request, int clients, long millis) throws Exception {
    AtomicLong done = new AtomicLong();
    Exception[] failure = new Exception[1];
    long start = System.nanoTime();
    long end = start + millis * 1_000_000L;
    List<Thread> threads = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      threads.add(Thread.ofPlatform().name("bench-client-" + c).start(() -> {
        try {
          long n = 0;
          while (System.nanoTime() < end) {
            sink = request.call();
            n++;
          }
          done.addAndGet(n);
        } catch (Exception e) {
          synchronized (failure) {
            failure[0] = e;
          }
        }
      }));
    }
    for (Thread t : threads) {
      t.join();
    }
    long elapsed = System.nanoTime() - start;
    synchronized (failure) {
      if (failure[0] != null) {
        throw failure[0];
      }
    }
    return done.get() / (elapsed / 1e9);
  }

  /**
   * The median time of one call in microseconds: calls run in batches for about {@code millis},
   * and the median over batches of the mean call time in a batch is returned. For steps of a few
   * microseconds, where timing each call alone would mostly measure the clock.
   */
  static double medianMicros(Request step, long millis) throws Exception {
    // Size batches to about 2 ms so that cheap steps are not dominated by reading the clock.
    long t0 = System.nanoTime();
    sink = step.call();
    long one = Math.max(1, System.nanoTime() - t0);
    int batch = (int) Math.max(1, Math.min(10_000, 2_000_000L / one));
    double[] means = new double[64];
    int n = 0;
    long end = System.nanoTime() + millis * 1_000_000L;
    do {
      long s = System.nanoTime();
      for (int i = 0; i < batch; i++) {
        sink = step.call();
      }
      if (n == means.length) {
        means = Arrays.copyOf(means, n * 2);
      }
      means[n++] = (System.nanoTime() - s) / 1e3 / batch;
    } while (System.nanoTime() < end || n < 3);
    double[] sorted = Arrays.copyOf(means, n);
    Arrays.sort(sorted);
    return sorted[n / 2];
  }
}
