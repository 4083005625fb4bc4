package dev.verity.cli;

import dev.verity.core.crypto.Signer;
import dev.verity.node.VerityNode;
import java.io.IOException;
import java.io.OutputStream;
import java.io.Writer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Node processes started on this machine: each one a separate JVM running {@code verity node up}
 * with its own settings file, data directory (key, blobs, ledger), port and log ({@code node.log}
 * in its data directory). A node is ready once it has written its URL ({@code --announce}) and
 * answers {@code /health}.
 *
 * <p>No orphans: every node runs with {@code --stop-when-stdin-closes} and this process holds its
 * standard input, so when this process ends in any way (even killed) every node stops; {@link
 * #close} (also run at JVM shutdown) stops them first with SIGTERM, so they close cleanly, then
 * forcibly after a grace period.
 */
public final class LocalNetwork implements AutoCloseable {
  static final Duration READY_DEADLINE = Duration.ofSeconds(90);
  private static final Duration STOP_GRACE = Duration.ofSeconds(15);

  /**
   * JVM options for node processes that start quickly on a small shared machine (demos, tests):
   * the client compiler only and the serial collector. Measure with {@link #SERVER_JVM} instead.
   */
  public static final List<String> QUICK_START_JVM = List.of("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xmx768m");
  /** JVM options for node processes whose performance is measured: the JVM's defaults. */
  public static final List<String> SERVER_JVM = List.of();

  private final List<String> jvmOptions;
  private final List<NodeProcess> nodes = new ArrayList<>();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final Thread shutdownHook = new Thread(this::stopAll, "verity-network-stop");
  private boolean closed;

  /** A network whose node processes run with {@code jvmOptions} (e.g. {@link #QUICK_START_JVM}). */
  public LocalNetwork(List<String> jvmOptions) {
    this.jvmOptions = List.copyOf(jvmOptions);
    Runtime.getRuntime().addShutdownHook(shutdownHook);
  }

  /** One node process. */
  public static final class NodeProcess {
    private final String name;
    private final Path dataDir;
    private final Signer key;
    private final Process process;
    private volatile URI uri;

    NodeProcess(String name, Path dataDir, Signer key, Process process) {
      this.name = name;
      this.dataDir = dataDir;
      this.key = key;
      this.process = process;
    }

    public String name() {
      return name;
    }

    public Path dataDir() {
      return dataDir;
    }

    /** The node's key (its operator address is {@code key().address()}). */
    public Signer key() {
      return key;
    }

    public Process process() {
      return process;
    }

    /** The node's base URL (once ready). */
    public URI uri() {
      return Objects.requireNonNull(uri, name + " is not ready");
    }

    public Path log() {
      return dataDir.resolve("node.log");
    }

    /** Kills the process at once (SIGKILL), as a crash would. */
    public void kill() throws InterruptedException {
      process.destroyForcibly();
      process.waitFor(STOP_GRACE.toSeconds(), TimeUnit.SECONDS);
    }

    @Override
    public String toString() {
      return name + (uri != null ? " at " + uri : "") + " (pid " + process.pid() + ")";
    }
  }

  /**
   * Starts a node process with these settings (written to {@code <dataDir>/node.properties}; the
   * data directory and host are set here) and returns without waiting for it; see {@link #awaitReady}.
   */
  public synchronized NodeProcess launch(String name, Path dataDir, Map<String, String> settings) throws IOException {
    if (closed) {
      throw new IllegalStateException("the network is stopped");
    }
    Files.createDirectories(dataDir);
    Signer key = VerityNode.loadOrCreateKey(dataDir);
    Map<String, String> all = new TreeMap<>(settings);
    all.put("data_dir", dataDir.toAbsolutePath().toString());
    Path config = dataDir.resolve("node.properties");
    try (Writer w = Files.newBufferedWriter(config, StandardCharsets.UTF_8)) {
      w.write("# written by 'verity up' for node " + name + "\n");
      for (Map.Entry<String, String> e : all.entrySet()) {
        w.write(e.getKey() + "=" + e.getValue().replace("\\", "\\\\") + "\n");
      }
    }
    Path announce = dataDir.resolve("node.url");
    Files.deleteIfExists(announce);
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("--enable-native-access=ALL-UNNAMED");
    cmd.addAll(jvmOptions);
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName(),
        "node", "up", "--config", config.toAbsolutePath().toString(), "--announce", announce.toAbsolutePath().toString(),
        "--stop-when-stdin-closes"));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(dataDir.resolve("node.log").toFile()));
    pb.environment().keySet().removeIf(k -> k.startsWith("VERITY_")); // the settings file alone decides
    NodeProcess n = new NodeProcess(name, dataDir, key, pb.start());
    nodes.add(n);
    return n;
  }

  /**
   * Waits until {@code n} has announced its URL and answers {@code /health}.
   *
   * @throws IOException if the process exits first, or is not ready in time (with its log's tail)
   */
  public void awaitReady(NodeProcess n) throws IOException, InterruptedException {
    Path announce = n.dataDir.resolve("node.url");
    long end = System.nanoTime() + READY_DEADLINE.toNanos();
    while (true) {
      if (!n.process.isAlive()) {
        throw new IOException(n.name + " exited with status " + n.process.exitValue() + " before it was ready:\n"
            + tail(n.log()));
      }
      if (n.uri == null && Files.exists(announce)) {
        n.uri = URI.create(Files.readString(announce, StandardCharsets.UTF_8).trim());
      }
      if (n.uri != null && healthy(n.uri)) {
        return;
      }
      if (System.nanoTime() - end > 0) {
        throw new IOException(n.name + " was not ready within " + READY_DEADLINE.toSeconds() + " s:\n" + tail(n.log()));
      }
      TimeUnit.MILLISECONDS.sleep(50);
    }
  }

  private boolean healthy(URI base) {
    try {
      HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create(base + "/health"))
          .timeout(Duration.ofSeconds(2)).GET().build(), HttpResponse.BodyHandlers.discarding());
      return r.statusCode() == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** The last lines of a node's log, for error messages. */
  public static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 25), lines.size()));
    } catch (IOException e) {
      return "(no log at " + log + ")";
    }
  }

  public synchronized List<NodeProcess> nodes() {
    return List.copyOf(nodes);
  }

  private synchronized void stopAll() {
    if (closed) {
      return;
    }
    closed = true;
    for (NodeProcess n : nodes) {
      n.process.destroy(); // SIGTERM: the node closes cleanly
    }
    long end = System.nanoTime() + STOP_GRACE.toNanos();
    for (NodeProcess n : nodes) {
      try {
        long left = Math.max(0, end - System.nanoTime());
        if (!n.process.waitFor(left, TimeUnit.NANOSECONDS)) {
          n.process.destroyForcibly();
          n.process.waitFor(5, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        n.process.destroyForcibly();
        Thread.currentThread().interrupt();
      }
      try (OutputStream in = n.process.getOutputStream()) {
        // closing stdin as well; the process has ended
      } catch (IOException ignored) {
        // already closed
      }
    }
  }

  /** Stops every node: SIGTERM, then SIGKILL for any still running after the grace period. */
  @Override
  public void close() {
    stopAll();
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException e) {
      // the JVM is already shutting down; the hook is running or ran
    }
  }
}
