package dev.verity.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.verity.core.crypto.Address;
import dev.verity.core.crypto.Signer;
import dev.verity.ledger.StateRecord;
import dev.verity.models.BuiltinModels;
import dev.verity.models.ExampleModel;
import dev.verity.node.VerityNode;
import dev.verity.protocol.InferenceReceipt;
import dev.verity.protocol.ModelManifest;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import dev.verity.sdk.InferenceResult;
import dev.verity.sdk.LedgerClient;
import dev.verity.sdk.ModelRef;
import dev.verity.sdk.ProgressListener;
import dev.verity.sdk.Publication;
import dev.verity.sdk.VerityClient;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Four node processes on loopback (real JVMs, real HTTP, each with its own key, port and data
 * directory): node-0 sequences the ledger and hosts the model, nodes 1-3 follow its ledger
 * remotely and work. The model is published on node-0, copied to the workers, paid inferences run
 * on every worker and are verified by the client and on the ledger through another node; then a
 * worker is killed and drops out of the live peers of the others once its heartbeats stop.
 */
class NodeProcessesTest {
  static final Duration DEADLINE = Duration.ofSeconds(45);

  @TempDir Path dir;

  @Test
  @Timeout(value = 180, unit = TimeUnit.SECONDS)
  void publishReplicateInferVerifyAcrossFourProcessesAndAKilledWorkerLeavesTheLiveSet() throws Exception {
    List<Signer> keys = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      keys.add(VerityNode.loadOrCreateKey(dir.resolve("node-" + i)));
    }
    Signer owner = Signer.generate();
    Signer client = Signer.generate();
    Path genesis = NetworkDemo.genesis(dir, keys, owner, client, Signer.generate());
    ExampleModel model = BuiltinModels.all().get(0);
    Path file = Files.write(dir.resolve(model.name() + ".onnx"), model.onnx());

    try (LocalNetwork net = new LocalNetwork(LocalNetwork.QUICK_START_JVM)) {
      LocalNetwork.NodeProcess seq = net.launch("node-0", dir.resolve("node-0"), NetworkDemo.sequencerSettings(genesis, 0));
      net.awaitReady(seq);
      List<LocalNetwork.NodeProcess> workers = new ArrayList<>();
      for (int i = 1; i < 4; i++) {
        workers.add(net.launch("node-" + i, dir.resolve("node-" + i), NetworkDemo.workerSettings(genesis, seq.uri())));
      }
      for (LocalNetwork.NodeProcess w : workers) {
        net.awaitReady(w);
        assertTrue(w.process().pid() != seq.process().pid() && w.process().isAlive());
      }

      // publish once on the hub (node-0) and register on the ledger; no worker is given the model
      ModelManifest manifest;
      try (VerityClient hub = VerityClient.builder(seq.uri()).signer(owner).build()) {
        manifest = hub.publish(file, Publication.of(model.name(), "1.0.0").withPrice(UpCommand.ROYALTY),
            ProgressListener.NONE);
        hub.ledger().registerModel(manifest.cid(), UpCommand.ROYALTY);
      }
      ExampleModel.Sample s = model.samples().get(0);
      NamedTensors inputs = NamedTensors.of(model.inputName(), Tensor.ofFloats(s.shape(), s.values()));
      // each worker, asked to run the manifest CID, fetches the manifest from its peers (and asks for payment)
      for (LocalNetwork.NodeProcess w : workers) {
        assertEquals(0, counter(w.uri(), "replica_models_fetched"), w.name() + " holds no model before it is asked");
        try (VerityClient c = VerityClient.builder(w.uri()).signer(client).build()) {
          dev.verity.sdk.VerityApiException unpaid = org.junit.jupiter.api.Assertions.assertThrows(
              dev.verity.sdk.VerityApiException.class, () -> c.infer(ModelRef.ofManifest(manifest.cid()), inputs));
          assertEquals(402, unpaid.status(), w.name() + " knows the model and asks for a job: " + unpaid.getMessage());
        }
        assertEquals(1, counter(w.uri(), "replica_models_fetched"), w.name() + " fetched the manifest from a peer");
      }
      // holding the manifest, every worker registers as serving the model
      Set<Address> workerAddresses = new HashSet<>();
      workers.forEach(w -> workerAddresses.add(w.key().address()));
      NetworkDemo.awaitLiveWorkers(seq.uri(), workerAddresses, List.of(manifest));

      // a paid inference on every worker (which fetches the model's blocks to run it), verified by the
      // client and then on the ledger through node-0
      List<InferenceReceipt> receipts = new ArrayList<>();
      for (LocalNetwork.NodeProcess w : workers) {
        try (VerityClient c = VerityClient.builder(w.uri()).signer(client).trustNodes(Set.of(w.key().publicKey()))
            .sequencer(seq.key().publicKey()).build()) {
          InferenceResult r = c.ledger().inferPaid(ModelRef.ofManifest(manifest.cid()), inputs);
          assertEquals(w.key().publicKey(), r.receipt().node(), "the worker that ran it signed the receipt");
          receipts.add(r.receipt());
        }
        assertTrue(counter(w.uri(), "replica_blocks_fetched") >= 1, w.name() + " fetched the model's blocks");
        assertEquals(0, counter(w.uri(), "replica_bad_peers"), w.name() + " received only valid bytes");
      }
      try (VerityClient onSequencer = VerityClient.builder(seq.uri()).signer(client).sequencer(seq.key().publicKey())
          .build()) {
        // node-0 is no worker but a gateway: it forwards to a worker, which asks for payment
        dev.verity.sdk.VerityApiException unpaid = org.junit.jupiter.api.Assertions.assertThrows(
            dev.verity.sdk.VerityApiException.class, () -> onSequencer.infer(ModelRef.ofManifest(manifest.cid()), inputs));
        assertEquals(402, unpaid.status(), "a worker behind the gateway asks for a job: " + unpaid.getMessage());
        LedgerClient ledger = onSequencer.ledger();
        for (InferenceReceipt r : receipts) {
          LedgerClient.LedgerEvidence e = ledger.awaitOnLedger(r, DEADLINE, line -> { });
          assertEquals(StateRecord.Job.Status.SETTLED, e.job().status());
          assertEquals(r.node().address(), e.job().worker().orElseThrow());
        }
      }

      // kill -9 one worker: it leaves the live set of node-0 and of the other workers; they stay
      LocalNetwork.NodeProcess victim = workers.get(2);
      victim.kill();
      assertFalse(victim.process().isAlive());
      awaitPeers(seq.uri(), Set.of(workers.get(0).key().address(), workers.get(1).key().address()),
          Set.of(victim.key().address()));
      awaitPeers(workers.get(0).uri(), Set.of(seq.key().address(), workers.get(1).key().address()),
          Set.of(victim.key().address()));
    }
  }

  /** The value of counter {@code verity_<name>_total} in {@code node}'s {@code /metrics}; 0 when not yet counted. */
  private static long counter(URI node, String name) throws Exception {
    java.net.http.HttpResponse<String> r;
    try (java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient()) {
      r = http.send(java.net.http.HttpRequest.newBuilder(URI.create(node + "/metrics")).GET().build(),
          java.net.http.HttpResponse.BodyHandlers.ofString());
    }
    assertEquals(200, r.statusCode(), "GET /metrics on " + node);
    String prefix = "verity_" + name + "_total ";
    return r.body().lines().filter(l -> l.startsWith(prefix)).mapToLong(l -> Long.parseLong(l.substring(prefix.length())))
        .findFirst().orElse(0L);
  }

  /** Waits (bounded) until {@code node} lists every one of {@code present} as live and none of {@code absent}. */
  private static void awaitPeers(URI node, Set<Address> present, Set<Address> absent) throws Exception {
    long end = System.nanoTime() + DEADLINE.toNanos();
    Set<Address> live = Set.of();
    while (System.nanoTime() - end < 0) {
      live = new HashSet<>();
      for (JsonNode p : NetworkDemo.livePeers(node)) {
        live.add(Address.parse(p.path("address").asText()));
      }
      if (live.containsAll(present) && absent.stream().noneMatch(live::contains)) {
        return;
      }
      TimeUnit.MILLISECONDS.sleep(100);
    }
    throw new AssertionError(node + " lists live peers " + live + "; expected " + present + " and none of " + absent);
  }

  @Test
  @Timeout(value = 240, unit = TimeUnit.SECONDS)
  void upWithThreeNodesRunsTheDemoThroughTheWorkersAndStopsEveryProcess() throws Exception {
    java.io.PrintStream oldOut = System.out;
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    int exit;
    try {
      System.setOut(new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8));
      exit = Main.run("up", "--nodes", "3", "--port", "0", "--exit", "--data-dir", dir.resolve("up").toString());
    } finally {
      System.setOut(oldOut);
    }
    String text = out.toString(java.nio.charset.StandardCharsets.UTF_8);
    assertEquals(0, exit, text);
    assertTrue(text.contains("3 node processes: node-0 sequencer+hub+gateway, 2 workers"), text);
    assertTrue(text.matches("(?s).*receipts signed per worker: node-\\d \\d+, node-\\d \\d+.*"),
        "both workers ran inferences: " + text);
    assertTrue(text.contains(", sum 0"), text);
    assertTrue(text.contains("verified with the light client"), text);
    assertTrue(text.contains("3/3 forgeries rejected"), text);
    assertEquals(List.of(), ProcessHandle.current().descendants().filter(ProcessHandle::isAlive).toList(),
        "every node process stopped with --exit");
    assertTrue(Files.exists(dir.resolve("up/network-3/node-2/node.log")));
  }

  @Test
  void nodeSettingsOfTheLocalNetworkAreValidNodeConfigurations() throws Exception {
    Path genesis = dir.resolve("g.cbor");
    for (Map<String, String> settings : List.of(NetworkDemo.sequencerSettings(genesis, 0),
        NetworkDemo.workerSettings(genesis, URI.create("http://127.0.0.1:8420")))) {
      Path f = dir.resolve("n.properties");
      Files.writeString(f, String.join("\n", settings.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
          .toList()));
      dev.verity.node.NodeConfig c = dev.verity.node.NodeConfig.load(java.util.Optional.of(f), Map.of());
      assertTrue(c.ledger().enabled());
      assertEquals(c.ledger().remote(), !c.roles().contains(dev.verity.ledger.NodeRole.SEQUENCER));
    }
  }
}
