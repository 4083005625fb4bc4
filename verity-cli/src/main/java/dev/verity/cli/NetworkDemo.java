package dev.verity.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.verity.core.crypto.Address;
import dev.verity.core.crypto.Signer;
import dev.verity.core.io.AtomicFiles;
import dev.verity.ledger.GenesisConfig;
import dev.verity.models.BuiltinModels;
import dev.verity.models.ExampleModel;
import dev.verity.node.VerityNode;
import dev.verity.protocol.InferenceReceipt;
import dev.verity.protocol.ModelManifest;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import dev.verity.sdk.LedgerClient;
import dev.verity.sdk.ModelRef;
import dev.verity.sdk.ProgressListener;
import dev.verity.sdk.VerityClient;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * {@code verity up --nodes N} with N > 1: a network of N node processes on 127.0.0.1. Node 0 runs
 * the ledger (sequencer) and hosts the published models (hub, gateway); nodes 1..N-1 are workers
 * and verifiers that follow its ledger remotely. The genesis funds every node, the model owner and
 * the client. The demo publishes the built-in models on node 0, registers them on the ledger,
 * asks every worker to run them by manifest CID (unpaid, so it answers 402 after fetching the
 * checked manifest from its peers; it fetches the model file from its peers on its first paid run),
 * waits until every worker is registered for them and live, runs paid inferences spread over the workers (each receipt
 * verified by the client, signed by the worker that ran it), checks that everyone was paid exactly
 * their share and one receipt on the ledger with the light client, then serves until Ctrl-C (or
 * stops, with {@code --exit}).
 */
final class NetworkDemo {
  static final Duration DEADLINE = Duration.ofSeconds(60);
  /** Heartbeat and liveness of the demo's nodes: short, so a stopped node drops out quickly. */
  static final Duration HEARTBEAT = Duration.ofMillis(500);
  static final Duration LIVENESS = Duration.ofMillis(3000);
  /**
   * Every heartbeat makes a block, so heights advance at about nodes / heartbeat interval blocks per
   * second; a job stays open for this many blocks (hours on the demo network).
   */
  static final long JOB_TIMEOUT_BLOCKS = 100_000;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path dir;
  private final int count;
  private final int port;
  private final boolean exit;
  private final PrintStream out;

  NetworkDemo(Path dir, int count, int port, boolean exit, PrintStream out) {
    this.dir = dir;
    this.count = count;
    this.port = port;
    this.exit = exit;
    this.out = out;
  }

  /** Settings of node 0: the sequencer, hub and gateway. */
  static Map<String, String> sequencerSettings(Path genesis, int port) {
    Map<String, String> s = common(genesis, port);
    s.put("ledger", "embedded");
    s.put("roles", "sequencer,hub,gateway");
    return s;
  }

  /** Settings of a worker following the sequencer at {@code sequencer}. */
  static Map<String, String> workerSettings(Path genesis, URI sequencer) {
    Map<String, String> s = common(genesis, 0);
    s.put("ledger", "remote");
    s.put("ledger.url", sequencer.toString());
    s.put("roles", "worker,verifier");
    return s;
  }

  private static Map<String, String> common(Path genesis, int port) {
    Map<String, String> s = new TreeMap<>();
    s.put("host", "127.0.0.1");
    s.put("port", Integer.toString(port));
    s.put("ledger.genesis", genesis.toAbsolutePath().toString());
    s.put("ledger.operator_fee", Long.toString(UpCommand.OPERATOR_FEE));
    s.put("ledger.receipt_batch", "8");
    s.put("ledger.receipt_batch_millis", "500");
    s.put("heartbeat_millis", Long.toString(HEARTBEAT.toMillis()));
    s.put("liveness_millis", Long.toString(LIVENESS.toMillis()));
    s.put("engine.intra_op_threads", "1");
    return s;
  }

  /**
   * The network's genesis, kept in {@code dir} so that later runs continue the same chain: node 0
   * sequences and resolves challenges; every node, the client and the owner are funded; fees are 0.
   */
  static Path genesis(Path dir, List<Signer> nodes, Signer owner, Signer client, Signer treasury) throws IOException {
    Path file = dir.resolve("genesis.cbor");
    if (Files.exists(file)) {
      GenesisConfig g = GenesisConfig.decode(Files.readAllBytes(file));
      if (!g.sequencer().equals(nodes.get(0).publicKey())) {
        throw new IllegalStateException(file + " names another sequencer than node 0's key; remove " + dir
            + " to start afresh");
      }
      return file;
    }
    GenesisConfig.Builder b = GenesisConfig.builder("verity-up-network")
        .devNetwork(true)
        .genesisTime(System.currentTimeMillis())
        .sequencer(nodes.get(0).publicKey())
        .authority(nodes.get(0).publicKey())
        .treasury(treasury.address())
        .minFee(0)
        .jobTimeoutBlocks(JOB_TIMEOUT_BLOCKS)
        .allocate(client.address(), UpCommand.CLIENT_FUNDS)
        .allocate(owner.address(), UpCommand.OWNER_FUNDS);
    for (Signer n : nodes) {
      b.allocate(n.address(), UpCommand.NODE_FUNDS);
    }
    AtomicFiles.write(file, b.build().encode());
    return file;
  }

  int run() throws Exception {
    Files.createDirectories(dir);
    List<Signer> keys = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      keys.add(VerityNode.loadOrCreateKey(nodeDir(i)));
    }
    Signer owner = UpCommand.key(dir.resolve("owner.key"));
    Signer caller = UpCommand.key(dir.resolve("client.key"));
    Signer treasury = UpCommand.key(dir.resolve("treasury.key"));
    Path genesis = genesis(dir, keys, owner, caller, treasury);
    try (LocalNetwork net = new LocalNetwork(LocalNetwork.QUICK_START_JVM)) {
      out.println("Verity " + VerityNode.VERSION + ": starting " + count + " node processes (data in " + dir + ")");
      LocalNetwork.NodeProcess seq = net.launch("node-0", nodeDir(0), sequencerSettings(genesis, port));
      net.awaitReady(seq);
      out.println("  node-0 " + seq.key().address() + " at " + seq.uri() + ": sequencer, hub, gateway (pid "
          + seq.process().pid() + ")");
      List<LocalNetwork.NodeProcess> workers = new ArrayList<>();
      for (int i = 1; i < count; i++) {
        workers.add(net.launch("node-" + i, nodeDir(i), workerSettings(genesis, seq.uri())));
      }
      for (LocalNetwork.NodeProcess w : workers) {
        net.awaitReady(w);
        out.println("  " + w.name() + " " + w.key().address() + " at " + w.uri() + ": worker, verifier, ledger followed"
            + " from node-0 (pid " + w.process().pid() + ")");
      }
      List<String> summary = demo(seq, workers, owner, caller, treasury);
      out.println();
      out.println("Summary");
      summary.forEach(s -> out.println("  " + s));
      out.println();
      out.println("Try it: ./verity models list --node " + seq.uri());
      out.println("        curl " + seq.uri() + "/v1/network/peers");
      out.println("Logs:   " + dir + "/node-*/node.log");
      if (!exit) {
        out.println("Serving until Ctrl-C (which stops every node).");
        NodeCommand.awaitShutdown(net);
      }
    }
    return 0;
  }

  private Path nodeDir(int i) {
    return dir.resolve("node-" + i);
  }

  private List<String> demo(LocalNetwork.NodeProcess seq, List<LocalNetwork.NodeProcess> workers, Signer owner,
      Signer caller, Signer treasury) throws Exception {
    List<String> summary = new ArrayList<>();
    List<VerityClient> clients = new ArrayList<>();
    try (VerityClient hub = VerityClient.builder(seq.uri()).signer(owner).sequencer(seq.key().publicKey()).build();
        VerityClient onSequencer = VerityClient.builder(seq.uri()).signer(caller).sequencer(seq.key().publicKey())
            .build()) {
      List<ModelManifest> published = new ArrayList<>();
      for (ExampleModel model : BuiltinModels.all()) {
        ModelManifest m = UpCommand.publish(hub, owner, model, dir, out);
        UpCommand.register(hub.ledger(), m, out);
        published.add(m);
      }
      for (LocalNetwork.NodeProcess w : workers) {
        try (VerityClient asker = VerityClient.builder(w.uri()).signer(caller).build()) {
          for (int i = 0; i < published.size(); i++) {
            fetchOnWorker(asker, BuiltinModels.all().get(i), published.get(i));
          }
        }
        out.println("  " + w.name() + " fetched the manifests from its peers (asked to run them by CID)");
      }
      Set<Address> workerAddresses = new HashSet<>();
      workers.forEach(w -> workerAddresses.add(w.key().address()));
      awaitLiveWorkers(seq.uri(), workerAddresses, published);
      out.println("  node-0 sees " + workers.size() + " live workers registered for both models");
      summary.add(String.format("network        %d node processes: node-0 sequencer+hub+gateway, %d workers; every"
          + " worker registered, live (heartbeats every %d ms)", count, workers.size(), HEARTBEAT.toMillis()));

      for (LocalNetwork.NodeProcess w : workers) {
        clients.add(VerityClient.builder(w.uri()).signer(caller).sequencer(seq.key().publicKey()).build());
      }
      List<LedgerClient> ledgers = clients.stream().map(VerityClient::ledger).toList();
      LedgerClient ledger = onSequencer.ledger();
      GenesisConfig genesis = ledger.genesis();
      long protocolShare = UpCommand.OPERATOR_FEE * genesis.protocolShareBps() / 10_000;
      Map<String, Address> parties = new LinkedHashMap<>();
      parties.put("client", caller.address());
      parties.put("owner", owner.address());
      Map<Address, String> operators = new LinkedHashMap<>();
      for (LocalNetwork.NodeProcess w : workers) {
        parties.put(w.name(), w.key().address());
        operators.put(w.key().address(), w.name());
      }
      parties.put("treasury", treasury.address());
      Map<String, Long> before = UpCommand.balances(ledger, parties);
      List<InferenceReceipt> receipts = new ArrayList<>();
      for (int i = 0; i < published.size(); i++) {
        summary.addAll(UpCommand.runModes(ledgers, BuiltinModels.all().get(i), published.get(i), receipts, out));
      }
      Map<Address, Integer> perWorker = new TreeMap<>(java.util.Comparator.comparing(Address::toString));
      receipts.forEach(r -> perWorker.merge(r.node().address(), 1, Integer::sum));
      summary.add("workers        receipts signed per worker: " + String.join(", ", perWorker.entrySet().stream()
          .map(e -> operators.get(e.getKey()) + " " + e.getValue()).toList()));
      summary.add(UpCommand.tamperChecks(ledgers.get(0), BuiltinModels.all().get(0), published.get(0), receipts, out));
      summary.addAll(UpCommand.settlement(ledger, receipts, parties, before,
          UpCommand.expectedShares(receipts, operators, protocolShare), protocolShare, out));
    } finally {
      clients.forEach(VerityClient::close);
    }
    return summary;
  }

  /**
   * Asks a worker to run {@code m} by manifest CID without paying: a worker that lacks the manifest
   * fetches it from its peers (checked) and then asks for a job (402), which is what is expected here;
   * it fetches the model's blocks on its first paid run.
   */
  private static void fetchOnWorker(VerityClient worker, ExampleModel model, ModelManifest m) throws IOException {
    ExampleModel.Sample s = model.samples().get(0);
    NamedTensors inputs = NamedTensors.of(model.inputName(), Tensor.ofFloats(s.shape(), s.values()));
    try {
      worker.infer(ModelRef.ofManifest(m.cid()), inputs);
    } catch (dev.verity.sdk.VerityApiException e) {
      if (e.status() == 402) {
        return;
      }
      throw new IOException("a worker asked to run " + m.cid() + " did not fetch it from its peers: "
          + e.getMessage() + "; see its node.log", e);
    } catch (dev.verity.core.VerificationException e) {
      throw new IOException("a worker ran " + m.cid() + " unpaid with an answer that does not verify: "
          + e.getMessage(), e);
    }
  }

  /** Waits (bounded) until node 0's peer directory lists every worker as live and serving every model. */
  static void awaitLiveWorkers(URI node, Set<Address> workers, List<ModelManifest> models)
      throws IOException, InterruptedException {
    long end = System.nanoTime() + DEADLINE.toNanos();
    while (true) {
      Set<Address> ready = new HashSet<>();
      for (JsonNode p : livePeers(node)) {
        Set<String> served = new HashSet<>();
        p.path("models").forEach(m -> served.add(m.asText()));
        if (models.stream().allMatch(m -> served.contains(m.cid().toString()))) {
          ready.add(Address.parse(p.path("address").asText()));
        }
      }
      if (ready.containsAll(workers)) {
        return;
      }
      if (System.nanoTime() - end > 0) {
        Set<Address> missing = new HashSet<>(workers);
        missing.removeAll(ready);
        throw new IllegalStateException("workers " + missing + " did not register for the models (or are not live)"
            + " within " + DEADLINE.toSeconds() + " s; see their node.log");
      }
      TimeUnit.MILLISECONDS.sleep(100);
    }
  }

  /** The live peers node {@code node} reports ({@code GET /v1/network/peers}). */
  static JsonNode livePeers(URI node) throws IOException, InterruptedException {
    HttpResponse<byte[]> r;
    try (HttpClient http = HttpClient.newHttpClient()) {
      r = http.send(HttpRequest.newBuilder(URI.create(node + "/v1/network/peers"))
          .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
    }
    if (r.statusCode() != 200) {
      throw new IOException("GET /v1/network/peers on " + node + " answered " + r.statusCode());
    }
    return JSON.readTree(r.body()).path("peers");
  }
}
