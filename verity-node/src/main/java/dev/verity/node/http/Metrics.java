package dev.verity.node.http;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * The node's Prometheus metrics: request counts by route and status, request latency histograms by
 * route, requests in flight, and named counters the services increment. Lock-free; rendered in the
 * Prometheus text exposition format by {@link #render()}.
 */
public final class Metrics {
  /** Histogram bucket upper bounds in seconds. */
  private static final double[] BUCKETS = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

  private final Map<String, LongAdder> requests = new ConcurrentHashMap<>();
  private final Map<String, Histogram> latency = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> counters = new ConcurrentHashMap<>();
  private final AtomicLong inFlight = new AtomicLong();

  void started() {
    inFlight.incrementAndGet();
  }

  /** Counts a response by route and status; called as its headers go out, so a client that has seen a response sees it counted. */
  void responded(String route, int status) {
    requests.computeIfAbsent(route + "\u0000" + status, k -> new LongAdder()).increment();
  }

  /** Records how long a request took in all, once it is completely served. */
  void finished(String route, long nanos) {
    inFlight.decrementAndGet();
    latency.computeIfAbsent(route, k -> new Histogram()).observe(nanos / 1e9);
  }

  /** Adds one to the counter {@code verity_<name>_total}. */
  public void increment(String name) {
    counters.computeIfAbsent(name, k -> new LongAdder()).increment();
  }

  public String render() {
    StringBuilder b = new StringBuilder(2048);
    b.append("# HELP verity_http_requests_total HTTP requests served, by route pattern and status.\n");
    b.append("# TYPE verity_http_requests_total counter\n");
    requests.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
      String[] k = e.getKey().split("\u0000");
      b.append("verity_http_requests_total{route=\"").append(k[0]).append("\",status=\"").append(k[1])
          .append("\"} ").append(e.getValue().sum()).append('\n');
    });
    b.append("# HELP verity_http_request_duration_seconds Time to serve a request, by route pattern.\n");
    b.append("# TYPE verity_http_request_duration_seconds histogram\n");
    latency.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> e.getValue().render(b, e.getKey()));
    b.append("# HELP verity_http_requests_in_flight Requests being served now.\n");
    b.append("# TYPE verity_http_requests_in_flight gauge\n");
    b.append("verity_http_requests_in_flight ").append(inFlight.get()).append('\n');
    counters.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
      b.append("# TYPE verity_").append(e.getKey()).append("_total counter\n");
      b.append("verity_").append(e.getKey()).append("_total ").append(e.getValue().sum()).append('\n');
    });
    return b.toString();
  }

  private static final class Histogram {
    private final AtomicLongArray counts = new AtomicLongArray(BUCKETS.length + 1);
    private final LongAdder sumMicros = new LongAdder();

    void observe(double seconds) {
      int i = 0;
      while (i < BUCKETS.length && seconds > BUCKETS[i]) {
        i++;
      }
      counts.incrementAndGet(i);
      sumMicros.add((long) (seconds * 1e6));
    }

    void render(StringBuilder b, String route) {
      long cumulative = 0;
      for (int i = 0; i <= BUCKETS.length; i++) {
        cumulative += counts.get(i);
        String le = i < BUCKETS.length ? Double.toString(BUCKETS[i]) : "+Inf";
        b.append("verity_http_request_duration_seconds_bucket{route=\"").append(route).append("\",le=\"")
            .append(le).append("\"} ").append(cumulative).append('\n');
      }
      b.append("verity_http_request_duration_seconds_sum{route=\"").append(route).append("\"} ")
          .append(sumMicros.sum() / 1e6).append('\n');
      b.append("verity_http_request_duration_seconds_count{route=\"").append(route).append("\"} ")
          .append(cumulative).append('\n');
    }
  }
}
