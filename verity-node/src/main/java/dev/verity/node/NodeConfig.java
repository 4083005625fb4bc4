package dev.verity.node;

import dev.verity.node.replica.ReplicaSettings;
import dev.verity.node.gateway.GatewaySettings;
import dev.verity.node.net.NetworkSettings;
import dev.verity.runtime.ExecutionProvider;
import dev.verity.runtime.SessionConfig;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.function.Function;

/**
 * Every setting of a node, with a documented default. Read from an optional properties file, then
 * overridden by environment variables ({@code VERITY_} + the key upper-cased with '.' as '_', e.g.
 * {@code VERITY_PORT}, {@code VERITY_ENGINE_INTRA_OP_THREADS}). Unknown keys and malformed values
 * are rejected with a message naming the key, so a typo never silently falls back to a default.
 *
 * @param dataDir where the node keeps its key, blobs, manifests and model cache
 * @param host address to bind; loopback by default so a node is never exposed by accident
 * @param port TCP port; 0 picks a free one
 * @param maxRequestBytes largest inference or metadata request body
 * @param maxModelBytes largest model file accepted for upload
 * @param maxTensorElements most elements in one input tensor
 * @param intraOpThreads threads ONNX Runtime uses inside one operator (0 = number of cores)
 * @param interOpThreads threads ONNX Runtime uses across operators
 * @param executionProvider "cpu", or "cuda" where a GPU and the CUDA build of ONNX Runtime are present
 * @param sessionCacheBytes memory budget for loaded models; the least recently used are unloaded
 * @param ledger whether the node runs a ledger and charges for inference ({@link LedgerSettings})
 * @param replica fetching models from peers, their disk budget, serving blocks to peers ({@link
 *     ReplicaSettings})
 * @param network roles, endpoint, capacity, stake and heartbeats of the node in the network
 *     ({@link NetworkSettings})
 * @param gateway how the node forwards inference to workers when it is a gateway ({@link
 *     GatewaySettings})
 * @param optimistic executor threads and the verifier role of mode optimistic ({@link OptimisticSettings})
 * @param uploadRetention how long a blob uploaded to this node is kept while no published version names it
 *     (zero: forever); uploads signed by registered live nodes are kept
 */
public record NodeConfig(
    Path dataDir,
    String host,
    int port,
    long maxRequestBytes,
    long maxModelBytes,
    long maxTensorElements,
    int intraOpThreads,
    int interOpThreads,
    String executionProvider,
    long sessionCacheBytes,
    LedgerSettings ledger,
    ReplicaSettings replica,
    NetworkSettings network,
    GatewaySettings gateway,
    OptimisticSettings optimistic,
    java.time.Duration uploadRetention) {

  /** Default port of a Verity node. */
  public static final int DEFAULT_PORT = 8420;

  /** The settings, their defaults and their meaning, in the order docs/CONFIG.md lists them. */
  public static final Map<String, String[]> KEYS = keys();

  private static Map<String, String[]> keys() {
    Map<String, String[]> k = new LinkedHashMap<>();
    k.put("data_dir", new String[] {"~/.verity/node", "directory for the node key, blobs, manifests and model cache"});
    k.put("host", new String[] {"127.0.0.1", "address to bind"});
    k.put("port", new String[] {Integer.toString(DEFAULT_PORT), "TCP port (0 = any free port)"});
    k.put("max_request_bytes", new String[] {Long.toString(64L << 20), "largest inference or metadata request body"});
    k.put("max_model_bytes", new String[] {Long.toString(4L << 30), "largest model file accepted"});
    k.put("max_tensor_elements", new String[] {Long.toString(16L << 20), "most elements in one input tensor"});
    k.put("upload_retention_hours", new String[] {"24", "how long a blob uploaded here is kept while no published version names it (0 = forever); uploads by registered live nodes, such as dispute evidence, are kept"});
    k.put("engine.intra_op_threads", new String[] {"0", "ONNX Runtime threads within an operator (0 = all cores)"});
    k.put("engine.inter_op_threads", new String[] {"1", "ONNX Runtime threads across operators"});
    k.put("engine.execution_provider", new String[] {"cpu", "cpu or cuda"});
    k.put("engine.session_cache_bytes", new String[] {Long.toString(2L << 30), "memory budget for loaded models"});
    k.put("ledger", new String[] {"none", "none (free inference, signed receipts only), embedded (run the ledger, charge through jobs) or remote (follow the sequencer node at ledger.url)"});
    k.put("ledger.url", new String[] {"", "with ledger = remote: base URL of the sequencer node"});
    k.put("ledger.genesis", new String[] {"", "genesis file (canonical CBOR); empty = a dev genesis created in <data_dir>/ledger"});
    k.put("ledger.operator_fee", new String[] {"0", "what this node charges per inference on top of the model's royalty"});
    k.put("ledger.receipt_batch", new String[] {Integer.toString(LedgerSettings.DEFAULT_RECEIPT_BATCH), "receipts per CommitReceipts transaction (1..512)"});
    k.put("ledger.receipt_batch_millis", new String[] {Long.toString(LedgerSettings.DEFAULT_RECEIPT_BATCH_DELAY.toMillis()), "longest a receipt waits for its batch before it is committed"});
    k.put("ledger.block_millis", new String[] {Long.toString(LedgerSettings.DEFAULT_BLOCK_DELAY.toMillis()), "longest a transaction waits for its block to fill"});
    k.put("replica.cache_bytes", new String[] {Long.toString(ReplicaSettings.DEFAULT_CACHE_BYTES), "disk budget for models replicated from peers (least recently used evicted)"});
    k.put("replica.parallel_fetches", new String[] {Integer.toString(ReplicaSettings.DEFAULT_PARALLEL_FETCHES), "chunks fetched at once while replicating a model (1..64)"});
    k.put("replica.peers_only", new String[] {"false", "true: serve model blocks only to registered live nodes"});
    k.put("replica.bad_peer_seconds", new String[] {Long.toString(ReplicaSettings.DEFAULT_BAD_PEER_PENALTY.toSeconds()), "how long a peer that served wrong bytes is avoided"});
    k.put("replica.fetch_timeout_millis", new String[] {Long.toString(ReplicaSettings.DEFAULT_FETCH_TIMEOUT.toMillis()), "longest one request to a peer may take"});
    k.put("replica.yank_check_seconds", new String[] {Long.toString(ReplicaSettings.DEFAULT_YANK_CHECK.toSeconds()), "how often to ask peers whether a version held here was yanked (0 = never)"});
    k.put("roles", new String[] {"", "comma list of gateway, worker, verifier, hub, sequencer; empty = all (all but sequencer with ledger = remote)"});
    k.put("endpoint", new String[] {"", "URL other nodes reach this node at; empty = http://host:port"});
    k.put("capacity", new String[] {"0", "most requests run at once, as announced to gateways (0 = number of cores)"});
    k.put("stake", new String[] {"0", "stake bonded while registered (0 = the genesis minimum)"});
    k.put("heartbeat_millis", new String[] {Long.toString(NetworkSettings.DEFAULT_HEARTBEAT.toMillis()), "interval between heartbeats on the ledger (0 = none)"});
    k.put("liveness_millis", new String[] {Long.toString(NetworkSettings.DEFAULT_LIVENESS.toMillis()), "a peer whose last heartbeat is older than this (ledger time) is not live"});
    k.put("inference_peers_only", new String[] {"false", "true: run inference only for requests a live peer (a gateway) forwarded and signed"});
    k.put("gateway.deadline_millis", new String[] {Long.toString(GatewaySettings.DEFAULT_DEADLINE.toMillis()), "gateway: longest one forwarded request may take, all attempts included"});
    k.put("gateway.attempt_millis", new String[] {Long.toString(GatewaySettings.DEFAULT_ATTEMPT_TIMEOUT.toMillis()), "gateway: longest one attempt on one worker may take before another is tried"});
    k.put("gateway.attempts", new String[] {Integer.toString(GatewaySettings.DEFAULT_ATTEMPTS), "gateway: most workers one request is tried on (1..16)"});
    k.put("gateway.max_outstanding", new String[] {Integer.toString(GatewaySettings.DEFAULT_MAX_OUTSTANDING), "gateway: most requests held at once; more get 429 with Retry-After"});
    k.put("gateway.queue_millis", new String[] {Long.toString(GatewaySettings.DEFAULT_QUEUE_WAIT.toMillis()), "gateway: longest a request waits for a worker with spare capacity, then 503 with Retry-After"});
    k.put("optimistic.threads", new String[] {"1", "canonical executor threads per run in mode optimistic (results never depend on it)"});
    k.put("optimistic.verifier", new String[] {"false", "true: also act as a verifier (re-execute sampled jobs, attest or challenge; needs a ledger)"});
    k.put("optimistic.verifier_stake", new String[] {"0", "stake bonded as a verifier (0 = the genesis minimum)"});
    k.put("optimistic.challenge_bond", new String[] {"0", "bond posted with each challenge (0 = the genesis minimum)"});
    return java.util.Collections.unmodifiableMap(k);
  }

  public NodeConfig {
    java.util.Objects.requireNonNull(uploadRetention, "uploadRetention");
    if (uploadRetention.isNegative()) {
      throw new IllegalArgumentException("upload_retention_hours must not be negative");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port must be 0..65535, got " + port);
    }
    if (maxRequestBytes < 1024 || maxModelBytes < 1024 || maxTensorElements < 1 || sessionCacheBytes < 0) {
      throw new IllegalArgumentException("size limits must be positive (request and model limits at least 1024 bytes)");
    }
    if (intraOpThreads < 0 || interOpThreads < 0) {
      throw new IllegalArgumentException("thread counts must be >= 0");
    }
    if (!executionProvider.equals("cpu") && !executionProvider.equals("cuda")) {
      throw new IllegalArgumentException("engine.execution_provider must be cpu or cuda, got '" + executionProvider + "'");
    }
    java.util.Objects.requireNonNull(ledger, "ledger settings");
    java.util.Objects.requireNonNull(replica, "replica settings");
    java.util.Objects.requireNonNull(network, "network settings");
    java.util.Objects.requireNonNull(gateway, "gateway settings");
    if (ledger.enabled()) {
      network.rolesFor(ledger.embedded(), ledger.remote()); // refuses roles that do not fit the ledger mode
    }
    java.util.Objects.requireNonNull(optimistic, "optimistic settings");
    if (optimistic.verifier() && ledger.mode() == LedgerSettings.Mode.NONE) {
      throw new IllegalArgumentException("optimistic.verifier = true needs a ledger; set the setting ledger");
    }
    if (network.roles().contains(dev.verity.ledger.NodeRole.VERIFIER) && ledger.mode() == LedgerSettings.Mode.NONE) {
      throw new IllegalArgumentException("the verifier role needs a ledger; set the setting ledger");
    }
  }

  /** All defaults. */
  public static NodeConfig defaults() {
    return fromValues(Map.of());
  }

  /** Defaults, then the file (if given), then the environment. */
  public static NodeConfig load(Optional<Path> file, Map<String, String> env) throws IOException {
    Map<String, String> values = new LinkedHashMap<>();
    if (file.isPresent()) {
      Properties p = new Properties();
      try (Reader r = Files.newBufferedReader(file.get())) {
        p.load(r);
      }
      for (String key : p.stringPropertyNames()) {
        if (!KEYS.containsKey(key)) {
          throw new IllegalArgumentException("unknown setting '" + key + "' in " + file.get() + "; known: " + KEYS.keySet());
        }
        values.put(key, p.getProperty(key).trim());
      }
    }
    for (String key : KEYS.keySet()) {
      String v = env.get(envName(key));
      if (v != null) {
        values.put(key, v.trim());
      }
    }
    return fromValues(values);
  }

  public static String envName(String key) {
    return "VERITY_" + key.toUpperCase(java.util.Locale.ROOT).replace('.', '_');
  }

  private static NodeConfig fromValues(Map<String, String> v) {
    Function<String, String> get = k -> v.getOrDefault(k, KEYS.get(k)[0]);
    return new NodeConfig(
        expandHome(get.apply("data_dir")),
        get.apply("host"),
        (int) number(get, "port"),
        number(get, "max_request_bytes"),
        number(get, "max_model_bytes"),
        number(get, "max_tensor_elements"),
        (int) number(get, "engine.intra_op_threads"),
        (int) number(get, "engine.inter_op_threads"),
        get.apply("engine.execution_provider"),
        number(get, "engine.session_cache_bytes"),
        ledgerSettings(get),
        new ReplicaSettings(
            number(get, "replica.cache_bytes"),
            (int) Math.min(Integer.MAX_VALUE, number(get, "replica.parallel_fetches")),
            bool(get, "replica.peers_only"),
            java.time.Duration.ofSeconds(number(get, "replica.bad_peer_seconds")),
            java.time.Duration.ofMillis(number(get, "replica.fetch_timeout_millis")),
            java.time.Duration.ofSeconds(number(get, "replica.yank_check_seconds"))),
        networkSettings(get),
        new GatewaySettings(
            java.time.Duration.ofMillis(number(get, "gateway.deadline_millis")),
            java.time.Duration.ofMillis(number(get, "gateway.attempt_millis")),
            (int) Math.min(Integer.MAX_VALUE, number(get, "gateway.attempts")),
            (int) Math.min(Integer.MAX_VALUE, number(get, "gateway.max_outstanding")),
            java.time.Duration.ofMillis(number(get, "gateway.queue_millis"))),
        new OptimisticSettings(
            (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, number(get, "optimistic.threads"))),
            bool(get, "optimistic.verifier"),
            number(get, "optimistic.verifier_stake"),
            number(get, "optimistic.challenge_bond")),
        java.time.Duration.ofHours(number(get, "upload_retention_hours")));
  }

  private static boolean bool(Function<String, String> get, String key) {
    String s = get.apply(key);
    return switch (s) {
      case "true" -> true;
      case "false" -> false;
      default -> throw new IllegalArgumentException("setting '" + key + "' must be true or false, got '" + s + "'");
    };
  }

  private static NetworkSettings networkSettings(Function<String, String> get) {
    String endpoint = get.apply("endpoint");
    return new NetworkSettings(
        NetworkSettings.parseRoles(get.apply("roles")),
        endpoint.isEmpty() ? Optional.empty() : Optional.of(uri("endpoint", endpoint)),
        number(get, "capacity"),
        number(get, "stake"),
        java.time.Duration.ofMillis(number(get, "heartbeat_millis")),
        java.time.Duration.ofMillis(number(get, "liveness_millis")),
        bool(get, "inference_peers_only"));
  }

  private static java.net.URI uri(String key, String s) {
    try {
      return new java.net.URI(s);
    } catch (java.net.URISyntaxException e) {
      throw new IllegalArgumentException("setting '" + key + "' must be a URL, got '" + s + "': " + e.getMessage());
    }
  }

  private static LedgerSettings ledgerSettings(Function<String, String> get) {
    String genesis = get.apply("ledger.genesis");
    String url = get.apply("ledger.url");
    return new LedgerSettings(
        LedgerSettings.Mode.fromWireName(get.apply("ledger")),
        genesis.isEmpty() ? Optional.empty() : Optional.of(expandHome(genesis)),
        number(get, "ledger.operator_fee"),
        (int) Math.min(Integer.MAX_VALUE, number(get, "ledger.receipt_batch")),
        java.time.Duration.ofMillis(number(get, "ledger.receipt_batch_millis")),
        java.time.Duration.ofMillis(number(get, "ledger.block_millis")),
        url.isEmpty() ? Optional.empty() : Optional.of(uri("ledger.url", url)));
  }

  private static long number(Function<String, String> get, String key) {
    String s = get.apply(key);
    try {
      return Long.parseLong(s);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("setting '" + key + "' must be a whole number, got '" + s + "'");
    }
  }

  static Path expandHome(String p) {
    if (p.equals("~") || p.startsWith("~/")) {
      return Path.of(System.getProperty("user.home")).resolve(p.length() <= 2 ? "" : p.substring(2));
    }
    return Path.of(p);
  }

  /** The ONNX Runtime session settings every model on a node with this configuration is loaded with. */
  public SessionConfig sessionConfig() {
    return SessionConfig.builder()
        .intraOpThreads(intraOpThreads)
        .interOpThreads(interOpThreads)
        .executionProvider(ExecutionProvider.fromWireName(executionProvider))
        .build();
  }

  public NodeConfig withDataDir(Path dir) {
    return new NodeConfig(dir, host, port, maxRequestBytes, maxModelBytes, maxTensorElements, intraOpThreads,
        interOpThreads, executionProvider, sessionCacheBytes, ledger, replica, network, gateway, optimistic, uploadRetention);
  }

  public NodeConfig withPort(int p) {
    return new NodeConfig(dataDir, host, p, maxRequestBytes, maxModelBytes, maxTensorElements, intraOpThreads,
        interOpThreads, executionProvider, sessionCacheBytes, ledger, replica, network, gateway, optimistic, uploadRetention);
  }

  public NodeConfig withReplica(ReplicaSettings r) {
    return new NodeConfig(dataDir, host, port, maxRequestBytes, maxModelBytes, maxTensorElements, intraOpThreads,
        interOpThreads, executionProvider, sessionCacheBytes, ledger, r, network, gateway, optimistic, uploadRetention);
  }

  public NodeConfig withLedger(LedgerSettings l) {
    return new NodeConfig(dataDir, host, port, maxRequestBytes, maxModelBytes, maxTensorElements, intraOpThreads,
        interOpThreads, executionProvider, sessionCacheBytes, l, replica, network, gateway, optimistic, uploadRetention);
  }

  public NodeConfig withNetwork(NetworkSettings n) {
    return new NodeConfig(dataDir, host, port, maxRequestBytes, maxModelBytes, maxTensorElements, intraOpThreads,
        interOpThreads, executionProvider, sessionCacheBytes, ledger, replica, n, gateway, optimistic, uploadRetention);
  }

  public NodeConfig withGateway(GatewaySettings g) {
    return new NodeConfig(dataDir, host, port, maxRequestBytes, maxModelBytes, maxTensorElements, intraOpThreads,
        interOpThreads, executionProvider, sessionCacheBytes, ledger, replica, network, g, optimistic, uploadRetention);
  }

  /** Most inferences this node runs at once: the configured capacity, or the number of cores. */
  public int capacity() {
    return (int) (network.capacity() > 0 ? network.capacity() : Math.max(1, Runtime.getRuntime().availableProcessors()));
  }

  /**
   * Whether the node verifies mode optimistic: re-executes the jobs the ledger samples to it, attests
   * or challenges them. True with {@code optimistic.verifier = true} or with {@code verifier} named
   * in the configured {@code roles}; the default roles alone do not make a node a verifier.
   */
  public boolean verifies() {
    return optimistic.verifier() || network.roles().contains(dev.verity.ledger.NodeRole.VERIFIER);
  }

  /** The roles this node runs (the configured ones, or the default for its ledger mode). */
  public java.util.Set<dev.verity.ledger.NodeRole> roles() {
    return network.rolesFor(ledger.embedded(), ledger.remote());
  }

  /** How long an upload that no published version names is kept (0 = forever). */
  public NodeConfig withUploadRetention(java.time.Duration d) {
    return new NodeConfig(dataDir, host, port, maxRequestBytes, maxModelBytes, maxTensorElements, intraOpThreads,
        interOpThreads, executionProvider, sessionCacheBytes, ledger, replica, network, gateway, optimistic, d);
  }

  public NodeConfig withOptimistic(OptimisticSettings o) {
    return new NodeConfig(dataDir, host, port, maxRequestBytes, maxModelBytes, maxTensorElements, intraOpThreads,
        interOpThreads, executionProvider, sessionCacheBytes, ledger, replica, network, gateway, o, uploadRetention);
  }
}
