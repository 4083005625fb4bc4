package dev.verity.bench;

import java.util.Arrays;

/**
 * Latencies of one request path, gathered over several timed segments, and the wall time those
 * segments took. Throughput is requests divided by that wall time, so it includes everything a
 * caller issuing requests back to back pays, not just the sum of latencies. Not thread-safe.
 */
final class Latencies {
  private long[] nanos = new long[4096];
  private int count;
  private long wallNanos;

  void record(long latencyNanos) {
    if (count == nanos.length) {
      nanos = Arrays.copyOf(nanos, count * 2);
    }
    nanos[count++] = latencyNanos;
  }

  void addWallTime(long segmentNanos) {
    wallNanos += segmentNanos;
  }

  int count() {
    return count;
  }

  Summary summary() {
    if (count == 0) {
      throw new IllegalStateException("no request was measured");
    }
    long[] sorted = Arrays.copyOf(nanos, count);
    Arrays.sort(sorted);
    return new Summary(count, percentile(sorted, 0.50), percentile(sorted, 0.90), percentile(sorted, 0.99),
        count / (wallNanos / 1e9));
  }

  /** Nearest-rank percentile, in microseconds. */
  private static double percentile(long[] sorted, double p) {
    int rank = (int) Math.ceil(p * sorted.length);
    return sorted[Math.max(0, rank - 1)] / 1e3;
  }

  /**
   * @param requests number of requests measured
   * @param p50 median latency in microseconds
   * @param p90 90th percentile in microseconds
   * @param p99 99th percentile in microseconds
   * @param perSecond requests completed per second of wall time
   */
  record Summary(long requests, double p50, double p90, double p99, double perSecond) {}
}
