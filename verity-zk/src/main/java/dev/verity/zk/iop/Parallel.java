package dev.verity.zk.iop;

import java.util.stream.IntStream;

/**
 * Splits index ranges across the machine's cores (never more threads than cores: the calling
 * thread plus the common fork-join pool, whose size is one less than the core count). Small ranges
 * run inline, where forking would cost more than it saves.
 */
public final class Parallel {
  /** Number of chunks a large range is split into. */
  public static final int THREADS = Math.max(1, Runtime.getRuntime().availableProcessors());

  /** Ranges shorter than this run on the calling thread. */
  public static final int MIN_PARALLEL = 1 << 12;

  private Parallel() {}

  /** A body over the index range [from, to) that knows which chunk it is. */
  @FunctionalInterface
  public interface RangeBody {
    void run(int chunk, int from, int to);
  }

  /** How many chunks {@link #forRange} will use for a range of length n. */
  public static int chunks(int n) {
    return n < MIN_PARALLEL || THREADS == 1 ? 1 : THREADS;
  }

  /** Runs body over [0, n) in {@link #chunks}(n) contiguous chunks. */
  public static void forRange(int n, RangeBody body) {
    int chunks = chunks(n);
    if (chunks == 1) {
      body.run(0, 0, n);
      return;
    }
    IntStream.range(0, chunks)
        .parallel()
        .forEach(c -> body.run(c, (int) ((long) n * c / chunks), (int) ((long) n * (c + 1) / chunks)));
  }
}
