package dev.verity.exec;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The threads one executor may use. Work is only ever split over independent outputs (disjoint
 * index ranges, each computed completely by one thread), never inside a reduction, so the result
 * does not depend on the number of threads.
 */
final class Workers implements AutoCloseable {
  /** A piece of work over the output indices {@code [from, to)}. */
  interface Range {
    void run(int from, int to);
  }

  private final int threads;
  private final ExecutorService pool;

  Workers(int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException("an executor needs at least one thread, got " + threads);
    }
    this.threads = threads;
    this.pool = threads == 1 ? null : Executors.newFixedThreadPool(threads - 1, r -> {
      Thread t = new Thread(r, "verity-exec-worker");
      t.setDaemon(true);
      return t;
    });
  }

  int threads() {
    return threads;
  }

  /**
   * Runs {@code body} over {@code [0, n)}, split into at most {@code threads} contiguous ranges
   * when {@code work} (a rough count of multiply-adds) makes splitting worth it.
   */
  void split(int n, long work, Range body) {
    int parts = (int) Math.min(Math.min(threads, n), Math.max(1, work / 32_768));
    if (parts <= 1 || pool == null) {
      body.run(0, n);
      return;
    }
    List<Future<?>> futures = new ArrayList<>(parts - 1);
    for (int p = 1; p < parts; p++) {
      int from = (int) ((long) n * p / parts);
      int to = (int) ((long) n * (p + 1) / parts);
      futures.add(pool.submit(() -> body.run(from, to)));
    }
    body.run(0, (int) ((long) n / parts));
    for (Future<?> f : futures) {
      try {
        f.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for executor threads", e);
      } catch (java.util.concurrent.ExecutionException e) {
        if (e.getCause() instanceof RuntimeException re) {
          throw re;
        }
        throw new IllegalStateException("executor thread failed", e.getCause());
      }
    }
  }

  @Override
  public void close() {
    if (pool != null) {
      pool.shutdownNow();
    }
  }
}
