package dev.verity.bench;

import dev.verity.core.crypto.Signer;
import dev.verity.ledger.NodeRole;
import dev.verity.node.NodeConfig;
import dev.verity.node.VerityNode;
import dev.verity.node.gateway.GatewaySettings;
import dev.verity.node.net.NetworkSettings;
import dev.verity.node.net.Peer;
import dev.verity.node.net.PeerDirectory;
import dev.verity.protocol.ModelManifest;
import dev.verity.protocol.tensor.TensorJson;
import dev.verity.sdk.ProgressListener;
import dev.verity.sdk.Publication;
import dev.verity.sdk.VerityClient;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Load through a gateway on loopback: 1, 2 and 3 workers behind one gateway, for the small built-in
 * model and the 2.1 M-parameter MLP. All nodes run in this JVM as separate {@link VerityNode}s with
 * their own keys, data directories and ports, talking real HTTP; the gateway's peer directory is a
 * fixed list (equal stake, each worker's capacity). For each set-up it measures
 *
 * <ol>
 *   <li>saturation: closed-loop clients (four per worker slot) for a fixed time: throughput, p50, p99;
 *   <li>70% of that throughput offered open-loop (Poisson arrivals, latency from the scheduled send
 *       time, so a stall is not hidden): p50, p99 and errors. Target: p99 ≤ 2 × p50 and no error;
 *   <li>the baseline: an {@link IdealServer} spending the set-up's CPU time per request, offered the
 *       same saturation and 70% runs by the same generator, for the tail this machine gives anyway;
 *   <li>the gateway hop: one client back to back, straight to a worker and through the gateway to
 *       that one worker, in alternating rounds.
 * </ol>
 *
 * Requests are raw HTTP posts of a fixed JSON body to {@code /v1/manifests/{cid}/infer}; the
 * gateway checks every receipt before answering (that check is part of the hop), the load
 * generator checks the status only.
 */
public final class NetworkLoad {
  static final String SECTION = "network-load";
  static final int CAPACITY = 2;

  private NetworkLoad() {}

  /**
   * @param warmUpMillis closed-loop warm-up per set-up
   * @param saturationMillis closed-loop measurement per set-up
   * @param loadMillis open-loop measurement at 70% per set-up
   * @param hopRounds alternating rounds of the hop measurement
   * @param hopRoundMillis time per path per round
   * @param maxWorkers workers in the largest set-up (1..3)
   */
  record Settings(long warmUpMillis, long saturationMillis, long loadMillis, int hopRounds, long hopRoundMillis,
      int maxWorkers, Optional<Path> doc, String command) {
    static Settings standard() {
      return new Settings(1500, 4000, 6000, 4, 1000, 3, Optional.empty(),
          "java -cp ... dev.verity.bench.NetworkLoad");
    }

    static Settings parse(String[] args) {
      Settings s = standard();
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        if (a.equals("--help") || i + 1 >= args.length) {
          throw new IllegalArgumentException(usage());
        }
        String v = args[++i];
        s = switch (a) {
          case "--warmup-ms" -> new Settings(positive(a, v), s.saturationMillis, s.loadMillis, s.hopRounds, s.hopRoundMillis, s.maxWorkers, s.doc, s.command);
          case "--saturation-ms" -> new Settings(s.warmUpMillis, positive(a, v), s.loadMillis, s.hopRounds, s.hopRoundMillis, s.maxWorkers, s.doc, s.command);
          case "--load-ms" -> new Settings(s.warmUpMillis, s.saturationMillis, positive(a, v), s.hopRounds, s.hopRoundMillis, s.maxWorkers, s.doc, s.command);
          case "--hop-rounds" -> new Settings(s.warmUpMillis, s.saturationMillis, s.loadMillis, (int) positive(a, v), s.hopRoundMillis, s.maxWorkers, s.doc, s.command);
          case "--hop-round-ms" -> new Settings(s.warmUpMillis, s.saturationMillis, s.loadMillis, s.hopRounds, positive(a, v), s.maxWorkers, s.doc, s.command);
          case "--doc" -> new Settings(s.warmUpMillis, s.saturationMillis, s.loadMillis, s.hopRounds, s.hopRoundMillis, s.maxWorkers, Optional.of(Path.of(v)), s.command);
          case "--command" -> new Settings(s.warmUpMillis, s.saturationMillis, s.loadMillis, s.hopRounds, s.hopRoundMillis, s.maxWorkers, s.doc, v);
          default -> throw new IllegalArgumentException("unknown option " + a + "\n" + usage());
        };
      }
      return s;
    }

    private static long positive(String option, String v) {
      try {
        long n = Long.parseLong(v);
        if (n > 0) {
          return n;
        }
      } catch (NumberFormatException e) {
        // reported below
      }
      throw new IllegalArgumentException(option + " needs a positive whole number, got '" + v + "'");
    }

    static String usage() {
      return """
          usage: NetworkLoad [--doc FILE] [--command TEXT] [--warmup-ms MS] [--saturation-ms MS]
                             [--load-ms MS] [--hop-rounds N] [--hop-round-ms MS]""";
    }
  }

  /** Latencies gathered by many threads, and the errors among the requests. Thread-safe. */
  static final class Sample {
    private long[] nanos = new long[1024];
    private int count;
    private long[] lags = new long[1024];
    private int lagCount;

    /**
     * How late an open-loop request started relative to its schedule: the load generator's own
     * thread waiting for a core, which no server can make up for.
     */
    synchronized void recordLag(long n) {
      if (lagCount == lags.length) {
        lags = Arrays.copyOf(lags, lagCount * 2);
      }
      lags[lagCount++] = n;
    }

    /** Nearest-rank percentile of the start lags in milliseconds (NaN when none were recorded). */
    synchronized double lagPercentile(double p) {
      return nearestRank(lags, lagCount, p);
    }
    private final AtomicInteger errors = new AtomicInteger();
    private final java.util.Map<Integer, AtomicInteger> byStatus = new java.util.concurrent.ConcurrentSkipListMap<>();

    synchronized void record(long n) {
      if (count == nanos.length) {
        nanos = Arrays.copyOf(nanos, count * 2);
      }
      nanos[count++] = n;
    }

    /** A failed request: its HTTP status, or -1 when no answer came. */
    void error(int status) {
      errors.incrementAndGet();
      byStatus.computeIfAbsent(status, k -> new AtomicInteger()).incrementAndGet();
    }

    /** The failures by status, e.g. "503×3, no answer×1"; empty when none. */
    String errorKinds() {
      List<String> parts = new ArrayList<>();
      byStatus.forEach((k, v) -> parts.add((k < 0 ? "no answer" : Integer.toString(k)) + "×" + v.get()));
      return String.join(", ", parts);
    }

    synchronized int count() {
      return count;
    }

    int errors() {
      return errors.get();
    }

    /** Nearest-rank percentile in milliseconds. */
    synchronized double percentile(double p) {
      return nearestRank(nanos, count, p);
    }

    private static double nearestRank(long[] values, int n, double p) {
      if (n == 0) {
        return Double.NaN;
      }
      long[] sorted = Arrays.copyOf(values, n);
      Arrays.sort(sorted);
      return sorted[Math.max(0, (int) Math.ceil(p * n) - 1)] / 1e6;
    }
  }

  /** One set-up's results. */
  record Row(String model, int workers, double saturation, double satP50, double satP99, double offered,
      double achieved, double p50, double p99, double lagP50, double lagP99, int errors, String errorKinds,
      int requests, double poissonP50, double poissonP99, int poissonErrors, Baseline baseline) {
    boolean met() {
      return errors == 0 && p99 <= 2 * p50;
    }
  }

  /**
   * The {@link IdealServer} offered the same load shape as one set-up: its CPU work per request, its
   * own saturation, and p50 / p99 at 70% of that, paced.
   */
  record Baseline(double workMicros, double saturation, double p50, double p99, int errors) {}

  /** The hop measurement for one model. */
  record Hop(String model, double directP50, double directP99, double gatewayP50, double gatewayP99) {}

  public static void main(String[] args) throws Exception {
    Settings settings;
    try {
      settings = Settings.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }
    String section = run(settings, System.out);
    System.out.println();
    System.out.println(section);
    if (settings.doc().isPresent()) {
      BenchmarkDoc.writeSection(settings.doc().get(), SECTION, section);
      System.out.println("wrote section '" + SECTION + "' of " + settings.doc().get());
    }
  }

  /** A model under load: its manifest on every worker and the request body. */
  record Target(InferenceOverhead.Subject subject, ModelManifest manifest, byte[] body) {
    String path() {
      return "/v1/manifests/" + manifest.cid() + "/infer";
    }
  }

  static String run(Settings s, PrintStream log) throws Exception {
    Instant started = Instant.now();
    String loadAtStart = BenchmarkDoc.loadAverage();
    Path tmp = Files.createTempDirectory("verity-network-bench");
    List<VerityNode> workers = new ArrayList<>();
    List<Row> rows = new ArrayList<>();
    List<Hop> hops = new ArrayList<>();
    double generatorNanos;
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(10)).build();
    try {
      for (int i = 0; i < s.maxWorkers(); i++) {
        workers.add(VerityNode.start(NodeConfig.load(Optional.empty(), System.getenv())
            .withDataDir(tmp.resolve("worker" + i)).withPort(0)
            .withNetwork(network(Set.of(NodeRole.WORKER, NodeRole.HUB), CAPACITY))));
      }
      Signer owner = Signer.generate();
      List<Target> targets = new ArrayList<>();
      for (InferenceOverhead.Subject subject : List.of(InferenceOverhead.smallModel(), InferenceOverhead.largeModel())) {
        Path file = tmp.resolve(subject.repository() + ".onnx");
        Files.write(file, subject.onnx());
        ModelManifest m = null;
        for (VerityNode w : workers) {
          try (VerityClient c = VerityClient.builder(w.uri()).signer(owner).build()) {
            if (m == null) {
              m = c.publish(file, Publication.of(subject.repository(), "1.0.0"), ProgressListener.NONE);
            } else {
              c.uploadBlob(file, ProgressListener.NONE);
              c.publishManifest(m);
            }
          }
        }
        String tensors = new String(TensorJson.toBytes(subject.inputs()), StandardCharsets.UTF_8);
        targets.add(new Target(subject, m, ("{\"inputs\":" + tensors + "}").getBytes(StandardCharsets.UTF_8)));
      }
      for (Target t : targets) {
        // warm every worker and the JIT once per model before any set-up is timed
        try (VerityNode gateway = gateway(tmp.resolve(t.subject().repository() + "-warm"), workers, t.manifest())) {
          closedLoop(http, gateway.uri().resolve(t.path()), t.body(), 4 * workers.size() * CAPACITY, 2 * s.warmUpMillis());
        }
      }
      int cores = Runtime.getRuntime().availableProcessors();
      double idealEmpty;
      try (IdealServer empty = IdealServer.start(0)) {
        idealEmpty = saturate(http, empty.uri(), targets.get(0).body(), 4 * CAPACITY, s.warmUpMillis(),
            s.saturationMillis()).throughput();
      }
      // CPU time the load generator and HTTP take per request on their own, across all cores
      generatorNanos = cores * 1e9 / idealEmpty;
      for (Target t : targets) {
        String name = t.subject().label().split(":")[0];
        for (int n = 1; n <= s.maxWorkers(); n++) {
          try (VerityNode gateway = gateway(tmp.resolve(name + "-gateway" + n), workers.subList(0, n), t.manifest())) {
            URI uri = gateway.uri().resolve(t.path());
            int clients = 4 * n * CAPACITY;
            Saturated saturated = saturate(http, uri, t.body(), clients, s.warmUpMillis(), s.saturationMillis());
            Sample sat = saturated.sample();
            double throughput = saturated.throughput();
            double offered = 0.7 * throughput;
            long loadStart = System.nanoTime();
            Sample load = openLoop(http, uri, t.body(), offered, s.loadMillis(), false);
            double achieved = load.count() / ((System.nanoTime() - loadStart) / 1e9);
            Sample poisson = openLoop(http, uri, t.body(), offered, s.loadMillis(), true);
            Baseline ideal = baseline(http, t.body(), clients, Math.max(0, cores * 1e9 / throughput - generatorNanos), s);
            Row r = new Row(name, n, throughput, sat.percentile(0.5), sat.percentile(0.99), offered, achieved,
                load.percentile(0.5), load.percentile(0.99), load.lagPercentile(0.5), load.lagPercentile(0.99),
                load.errors(), kinds(sat, load, poisson),
                load.count() + load.errors(), poisson.percentile(0.5), poisson.percentile(0.99), poisson.errors(), ideal);
            rows.add(r);
            log.printf(Locale.ROOT, "%s, %d worker(s): saturation %.0f req/s (p50 %.2f ms, p99 %.2f ms); at 70%% (%.0f req/s):"
                + " p50 %.2f ms, p99 %.2f ms, %d errors (%s)%n", name, n, throughput, r.satP50(), r.satP99(), offered, r.p50(),
                r.p99(), r.errors(), r.errorKinds());
          }
        }
        try (VerityNode gateway = gateway(tmp.resolve(name + "-hop"), workers.subList(0, 1), t.manifest())) {
          URI direct = workers.get(0).uri().resolve(t.path());
          URI via = gateway.uri().resolve(t.path());
          closedLoop(http, direct, t.body(), 1, s.warmUpMillis() / 2);
          closedLoop(http, via, t.body(), 1, s.warmUpMillis() / 2);
          Sample d = new Sample();
          Sample g = new Sample();
          for (int round = 0; round < s.hopRounds(); round++) {
            into(d, closedLoop(http, direct, t.body(), 1, s.hopRoundMillis()));
            into(g, closedLoop(http, via, t.body(), 1, s.hopRoundMillis()));
          }
          Hop h = new Hop(name, d.percentile(0.5), d.percentile(0.99), g.percentile(0.5), g.percentile(0.99));
          hops.add(h);
          log.printf(Locale.ROOT, "%s hop: direct p50 %.3f ms, via gateway p50 %.3f ms%n", name, h.directP50(), h.gatewayP50());
        }
      }
    } finally {
      for (VerityNode w : workers) {
        w.close();
      }
      http.close();
    }
    return section(s, rows, hops, generatorNanos / 1e3, started, loadAtStart, BenchmarkDoc.loadAverage());
  }

  /**
   * The ideal server doing {@code workNanos} of CPU per request: the same closed-loop saturation and
   * paced 70% load as a set-up gets, with the same generator.
   */
  static Baseline baseline(HttpClient http, byte[] body, int clients, double workNanos, Settings s)
      throws IOException, InterruptedException {
    try (IdealServer ideal = IdealServer.start((long) workNanos)) {
      Saturated sat = saturate(http, ideal.uri(), body, clients, s.warmUpMillis() / 2, s.saturationMillis());
      Sample load = openLoop(http, ideal.uri(), body, 0.7 * sat.throughput(), s.loadMillis(), false);
      return new Baseline(workNanos / 1e3, sat.throughput(), load.percentile(0.5), load.percentile(0.99),
          sat.sample().errors() + load.errors());
    }
  }

  /** A closed-loop run and the requests it completed per second. */
  record Saturated(Sample sample, double throughput) {}

  /** Warms {@code uri} up with closed-loop clients, then measures them for {@code millis}. */
  static Saturated saturate(HttpClient http, URI uri, byte[] body, int clients, long warmUpMillis, long millis)
      throws InterruptedException {
    closedLoop(http, uri, body, clients, warmUpMillis);
    long t0 = System.nanoTime();
    Sample sat = closedLoop(http, uri, body, clients, millis);
    return new Saturated(sat, sat.count() / ((System.nanoTime() - t0) / 1e9));
  }

  private static String kinds(Sample saturation, Sample paced, Sample poisson) {
    List<String> parts = new ArrayList<>();
    if (!saturation.errorKinds().isEmpty()) {
      parts.add("at saturation " + saturation.errorKinds());
    }
    if (!paced.errorKinds().isEmpty()) {
      parts.add("at 70% paced " + paced.errorKinds());
    }
    if (!poisson.errorKinds().isEmpty()) {
      parts.add("at 70% Poisson " + poisson.errorKinds());
    }
    return String.join(", ", parts);
  }

  private static void into(Sample to, Sample from) {
    synchronized (from) {
      for (int i = 0; i < from.count; i++) {
        to.record(from.nanos[i]);
      }
    }
    from.byStatus.forEach((k, v) -> {
      for (int i = 0; i < v.get(); i++) {
        to.error(k);
      }
    });
  }

  private static int intraOpThreads() {
    try {
      return NodeConfig.load(Optional.empty(), System.getenv()).intraOpThreads();
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  static NetworkSettings network(Set<NodeRole> roles, long capacity) {
    return new NetworkSettings(roles, Optional.empty(), capacity, 0, NetworkSettings.DEFAULT_HEARTBEAT,
        NetworkSettings.DEFAULT_LIVENESS);
  }

  static VerityNode gateway(Path dir, List<VerityNode> workers, ModelManifest m) throws IOException {
    List<Peer> peers = new ArrayList<>();
    for (VerityNode w : workers) {
      peers.add(new Peer(w.address(), w.uri(), Set.of(NodeRole.WORKER), Set.of(m.cid()), 1, CAPACITY));
    }
    return VerityNode.start(NodeConfig.load(Optional.empty(), System.getenv()).withDataDir(dir).withPort(0)
        .withNetwork(network(Set.of(NodeRole.GATEWAY), 0)).withGateway(GatewaySettings.defaults()),
        Optional.of(PeerDirectory.of(peers)));
  }

  /** Posts once; the HTTP status, or -1 when no answer came. */
  private static int post(HttpClient http, URI uri, byte[] body) {
    try {
      HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30))
          .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
          HttpResponse.BodyHandlers.ofByteArray());
      return r.statusCode();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  /** {@code clients} threads posting back to back for {@code millis}. */
  static Sample closedLoop(HttpClient http, URI uri, byte[] body, int clients, long millis) throws InterruptedException {
    Sample sample = new Sample();
    long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int c = 0; c < clients; c++) {
        pool.submit(() -> {
          while (System.nanoTime() - end < 0) {
            long t0 = System.nanoTime();
            int status = post(http, uri, body);
            if (status == 200) {
              sample.record(System.nanoTime() - t0);
            } else {
              sample.error(status);
            }
          }
        });
      }
    }
    return sample;
  }

  /**
   * Requests at {@code perSecond} for {@code millis}, each on its own thread, evenly spaced or with
   * exponential gaps (Poisson arrivals); latency counts from the scheduled send time.
   */
  static Sample openLoop(HttpClient http, URI uri, byte[] body, double perSecond, long millis, boolean poisson) {
    Sample sample = new Sample();
    SplittableRandom random = new SplittableRandom(7);
    long start = System.nanoTime();
    long end = start + TimeUnit.MILLISECONDS.toNanos(millis);
    double meanGap = 1e9 / perSecond;
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      long next = start;
      while (true) {
        next += (long) (poisson ? -Math.log(1 - random.nextDouble()) * meanGap : meanGap);
        if (next - end >= 0) {
          break;
        }
        long wait = next - System.nanoTime();
        if (wait > 0) {
          LockSupport.parkNanos(wait);
        }
        long scheduled = next;
        pool.submit(() -> {
          sample.recordLag(System.nanoTime() - scheduled);
          int status = post(http, uri, body);
          if (status == 200) {
            sample.record(System.nanoTime() - scheduled);
          } else {
            sample.error(status);
          }
        });
      }
    }
    return sample;
  }

  static String section(Settings s, List<Row> rows, List<Hop> hops, double generatorMicros, Instant started,
      String loadAtStart,
      String loadAtEnd) {
    BenchmarkDoc.Machine m = BenchmarkDoc.Machine.describe();
    StringBuilder b = new StringBuilder();
    b.append("## Network: workers behind a gateway on loopback\n\n");
    b.append("Measured ").append(started.truncatedTo(ChronoUnit.SECONDS)).append(" with `").append(s.command())
        .append("` (harness `dev.verity.bench.NetworkLoad`).\n\n");
    b.append("- Machine: ").append(m.cores()).append(" cores (nproc), ").append(m.cpu()).append(", ").append(m.memory())
        .append(" memory; ").append(m.jdk()).append("; ").append(m.os()).append(".\n");
    b.append("- Load average (1 / 5 / 15 min) at start ").append(loadAtStart).append(", at end ").append(loadAtEnd)
        .append(". The machine may be shared with other work; read the numbers as this run's.\n");
    b.append("- Set-up: every node is a separate `VerityNode` in one JVM (own key, data directory, port; real HTTP on"
        + " 127.0.0.1): up to ").append(s.maxWorkers()).append(" workers (capacity ").append(CAPACITY)
        .append(", ONNX Runtime intra-op threads ").append(intraOpThreads())
        .append(" from the environment, 0 = all cores) and one gateway whose peer directory lists the first N workers"
        + " with equal stake. Free inference (no ledger); the gateway checks each worker's receipt (signature by that"
        + " worker, request id, manifest, input and output CIDs, tensor specs) before answering.\n");
    b.append("- Method: raw HTTP posts of one fixed JSON body (batch 1). Saturation: ").append("4 × N × capacity")
        .append(" closed-loop clients for ").append(s.saturationMillis()).append(" ms after ").append(s.warmUpMillis())
        .append(" ms warm-up (and one warm-up per model through all workers first). Then 70% of that throughput offered"
            + " open-loop for ").append(s.loadMillis()).append(" ms, evenly spaced (paced), then again with Poisson"
            + " arrivals; latency from each request's scheduled send time, so a stall is not hidden. Target at 70%,"
            + " paced: p99 ≤ 2 × p50 and no error. With Poisson arrivals requests queue behind bursts even at 70%"
            + " (for one M/M/1 queue p99 / p50 = ln 100 / ln 2 ≈ 6.6 at any load), so those columns are for reference."
            + " Send lag (paced run): how late the load generator's own thread started each request after its scheduled"
            + " time, before any node saw it; it is part of the latency, and a p99 lag of milliseconds means the"
            + " machine's cores were taken when the request was due, whatever the nodes do.\n\n");
    List<String> notes = new ArrayList<>();
    b.append("| model | workers | saturation req/s | p50 ms | p99 ms | 70% req/s offered / achieved | p50 ms |"
        + " p99 ms | p99 / p50 | send lag p50 / p99 ms | errors | target | Poisson p50 ms | Poisson p99 ms | Poisson errors |\n");
    b.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|\n");
    for (Row r : rows) {
      b.append(String.format(Locale.ROOT, "| %s | %d | %,.0f | %.2f | %.2f | %,.0f / %,.0f | %.2f | %.2f | %.2f | %.2f / %.2f | %d | %s | %.2f | %.2f | %d |%n",
          r.model(), r.workers(), r.saturation(), r.satP50(), r.satP99(), r.offered(), r.achieved(), r.p50(), r.p99(),
          r.p99() / r.p50(), r.lagP50(), r.lagP99(), r.errors(), r.met() ? "met" : "**missed**", r.poissonP50(),
          r.poissonP99(), r.poissonErrors()));
      if (!r.errorKinds().isEmpty()) {
        notes.add(r.model() + ", " + r.workers() + " worker(s): " + r.errorKinds());
      }
    }
    if (!notes.isEmpty()) {
      b.append("\nFailed requests by HTTP status (429/503 carry Retry-After; \"no answer\": no response within 30 s): ")
          .append(String.join("; ", notes)).append(".\n");
    }
    b.append("\n### Baseline: an ideal server under the same load\n\n");
    b.append("The same generator, pacing and client count against `IdealServer` (bench/): minimal HTTP/1.1 on"
        + " blocking sockets, one platform thread per connection, no hand-off between threads, spinning a fixed CPU"
        + " time per request and answering a 2-byte body. Its work per request is the set-up's CPU time per request"
        + " at saturation (cores / throughput) less what the generator and HTTP take with no work at all (measured"
        + " first: ").append(String.format(Locale.ROOT, "%.1f", generatorMicros))
        .append(" µs of CPU per request). What it shows is the tail the machine and the generator alone give at that"
            + " load and CPU cost, which no server design could go below here.\n\n");
    b.append("| model | workers | work per request µs | ideal saturation req/s | ideal p50 ms at 70% | ideal p99 ms |"
        + " ideal p99 / p50 | ideal errors | Verity p99 / p50 |\n");
    b.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (Row r : rows) {
      Baseline i = r.baseline();
      b.append(String.format(Locale.ROOT, "| %s | %d | %,.0f | %,.0f | %.2f | %.2f | %.2f | %d | %.2f |%n", r.model(),
          r.workers(), i.workMicros(), i.saturation(), i.p50(), i.p99(), i.p99() / i.p50(), i.errors(),
          r.p99() / r.p50()));
    }
    b.append("\n### Gateway hop, one client back to back, one worker\n\n");
    b.append("Alternating rounds of ").append(s.hopRoundMillis()).append(" ms (").append(s.hopRounds())
        .append(" per path): straight to the worker, and through the gateway to the same worker.\n\n");
    b.append("| model | direct p50 ms | direct p99 ms | via gateway p50 ms | via gateway p99 ms | hop at p50 ms |\n");
    b.append("|---|---:|---:|---:|---:|---:|\n");
    for (Hop h : hops) {
      b.append(String.format(Locale.ROOT, "| %s | %.3f | %.3f | %.3f | %.3f | %.3f |%n", h.model(), h.directP50(),
          h.directP99(), h.gatewayP50(), h.gatewayP99(), h.gatewayP50() - h.directP50()));
    }
    b.append("\nModels: small = the built-in breast-cancer classifier (590 parameters); large = MLP 1024-1024-1024-10 ("
        + String.format(Locale.ROOT, "%,d", InferenceOverhead.LARGE.parameterCount()) + " parameters).\n");
    return b.toString();
  }
}
