package dev.verity.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.Hash;
import dev.verity.core.crypto.Signer;
import dev.verity.core.io.AtomicFiles;
import dev.verity.ledger.Action;
import dev.verity.ledger.GenesisConfig;
import dev.verity.ledger.NodeRole;
import dev.verity.ledger.StateRecord;
import dev.verity.ledger.Transaction;
import dev.verity.ledger.TransactionRejected;
import dev.verity.models.BuiltinModels;
import dev.verity.models.ExampleModel;
import dev.verity.node.net.NetworkSettings;
import dev.verity.node.net.Peer;
import dev.verity.node.net.RemoteLedger;
import dev.verity.protocol.ModelManifest;
import dev.verity.sdk.InferenceResult;
import dev.verity.sdk.LedgerClient;
import dev.verity.sdk.ModelRef;
import dev.verity.sdk.Publication;
import dev.verity.sdk.ProgressListener;
import dev.verity.sdk.VerityClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A worker whose ledger is remote: it follows the sequencer node's chain over HTTP, checking every
 * block, registers and sends heartbeats through it, and runs paid inference whose settlement and
 * receipt commitment go through the sequencer. Both nodes run in this JVM on loopback.
 */
class RemoteLedgerTest {
  static final long ROYALTY = 5;
  static final long FEE = 20;
  static final Duration DEADLINE = Duration.ofSeconds(30);

  @TempDir static Path dir;
  static Signer owner = Signer.generate();
  static Signer client = Signer.generate();
  static Signer payer = Signer.generate();
  static Signer workerKey;
  static GenesisConfig genesis;
  static Path genesisFile;
  static VerityNode sequencer;
  static VerityNode worker;
  static ModelManifest manifest;
  static ExampleModel model = BuiltinModels.all().get(0);

  static NetworkSettings fast(Set<NodeRole> roles) {
    return new NetworkSettings(roles, Optional.empty(), 2, 0, Duration.ofMillis(150), Duration.ofMillis(1500));
  }

  @BeforeAll
  static void start() throws Exception {
    Signer seqKey = VerityNode.loadOrCreateKey(dir.resolve("seq"));
    workerKey = VerityNode.loadOrCreateKey(dir.resolve("worker"));
    genesis = GenesisConfig.builder("verity-remote-test").devNetwork(true).sequencer(seqKey.publicKey())
        .authority(seqKey.publicKey()).treasury(seqKey.address()).minFee(0)
        .allocate(seqKey.address(), 100_000).allocate(workerKey.address(), 100_000)
        .allocate(owner.address(), 1_000).allocate(client.address(), 100_000).allocate(payer.address(), 1_000).build();
    genesisFile = dir.resolve("genesis.cbor");
    AtomicFiles.write(genesisFile, genesis.encode());
    sequencer = VerityNode.start(NodeConfig.defaults().withDataDir(dir.resolve("seq")).withPort(0)
        .withLedger(LedgerSettings.embedded(Optional.of(genesisFile)).withReceiptBatch(4, Duration.ofMillis(100)))
        .withNetwork(fast(Set.of())));
    worker = VerityNode.start(NodeConfig.defaults().withDataDir(dir.resolve("worker")).withPort(0)
        .withLedger(LedgerSettings.remote(sequencer.uri(), Optional.of(genesisFile)).withOperatorFee(FEE)
            .withReceiptBatch(4, Duration.ofMillis(100)))
        .withNetwork(fast(Set.of(NodeRole.WORKER, NodeRole.VERIFIER))));

    Path file = NodeHarness.write(dir.resolve("models"), model.name() + ".onnx", model.onnx());
    try (VerityClient hub = VerityClient.builder(sequencer.uri()).signer(owner).build();
        VerityClient copy = VerityClient.builder(worker.uri()).signer(owner).build()) {
      manifest = hub.publish(file, Publication.of(model.name(), "1.0.0").withPrice(ROYALTY), ProgressListener.NONE);
      copy.uploadBlob(file, ProgressListener.NONE);
      copy.publishManifest(manifest);
      copy.ledger().registerModel(manifest.cid(), ROYALTY); // submitted through the worker to the sequencer
    }
    await("the worker registers for the model", () -> sequencer.peers().live().stream()
        .anyMatch(p -> p.address().equals(workerKey.address()) && p.serves(manifest.cid())));
  }

  @AfterAll
  static void stop() throws Exception {
    if (worker != null) {
      worker.close();
    }
    if (sequencer != null) {
      sequencer.close();
    }
  }

  static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long end = System.nanoTime() + DEADLINE.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - end > 0) {
        throw new AssertionError("timed out waiting until " + what);
      }
      java.util.concurrent.TimeUnit.MILLISECONDS.sleep(20); // polling interval of a bounded wait
    }
  }

  @Test
  void paidInferenceOnTheWorkerSettlesThroughTheSequencer() throws Exception {
    try (VerityClient c = VerityClient.builder(worker.uri()).signer(client).trustNodes(Set.of(worker.publicKey()))
        .build()) {
      LedgerClient ledger = c.ledger();
      long before = ledger.account(client.address(), true).account().balance();
      InferenceResult r = ledger.inferPaid(ModelRef.ofManifest(manifest.cid()), NodeHarness.sampleInputs(model, 0));
      assertEquals(worker.publicKey(), r.receipt().node(), "the worker signed the receipt");
      Hash job = r.receipt().job().orElseThrow();
      LedgerClient.LedgerEvidence e = ledger.awaitOnLedger(r.receipt(), DEADLINE, s -> { });
      assertEquals(StateRecord.Job.Status.SETTLED, e.job().status());
      assertEquals(workerKey.address(), e.job().worker().orElseThrow());
      // the same job, read on the sequencer directly
      try (VerityClient s = VerityClient.builder(sequencer.uri()).build()) {
        assertEquals(StateRecord.Job.Status.SETTLED, s.ledger().job(job).job().status());
        assertEquals(before - ROYALTY - FEE, s.ledger().account(client.address(), true).account().balance());
      }
    }
  }

  @Test
  void theWorkersViewIsTheSequencersChainVerified() throws Exception {
    NodeLedgerProbe probe = new NodeLedgerProbe();
    long h = probe.sequencerHeight();
    await("the worker reaches the sequencer's block " + h, () -> probe.workerHeight() >= h);
    assertEquals(probe.sequencerHeaderHash(h), probe.workerHeaderHash(h), "same signed header at the same height");
  }

  @Test
  void bothNodesSeeEachOtherAsLivePeersWithTheirRoles() throws Exception {
    await("the worker sees the sequencer", () -> worker.peers().live().stream()
        .anyMatch(p -> p.address().equals(sequencer.address()) && p.has(NodeRole.SEQUENCER)));
    Peer w = sequencer.peers().live().stream().filter(p -> p.address().equals(workerKey.address())).findFirst()
        .orElseThrow();
    assertEquals(Set.of(NodeRole.WORKER, NodeRole.VERIFIER), w.roles());
    assertEquals(worker.uri(), w.endpoint());
    assertEquals(2, w.capacity());
    assertTrue(w.stake() >= genesis.minNodeStake());
    assertFalse(sequencer.peers().live().stream().anyMatch(p -> p.address().equals(sequencer.address())),
        "a directory never lists its own node");
  }

  @Test
  void rejectionsCarryTheLedgersReason() throws Exception {
    RemoteLedger l = RemoteLedger.open(sequencer.uri(), genesis, DEADLINE);
    try (l) {
      long nonce = l.view().account(client.address()).nonce();
      var tx = new Transaction(genesis.chainId(), client.publicKey(), nonce + 5, 0, new Action.Transfer(owner.address(), 1))
          .sign(client);
      ExecutionException e = assertThrows(ExecutionException.class, () -> l.submit(tx).get());
      TransactionRejected r = (TransactionRejected) e.getCause();
      assertEquals(TransactionRejected.Reason.BAD_NONCE, r.reason(), r.getMessage());
      var broke = new Transaction(genesis.chainId(), owner.publicKey(), l.view().account(owner.address()).nonce(), 0,
          new Action.Transfer(client.address(), 1_000_000)).sign(owner);
      e = assertThrows(ExecutionException.class, () -> l.submit(broke).get());
      assertEquals(TransactionRejected.Reason.INSUFFICIENT_FUNDS, ((TransactionRejected) e.getCause()).reason());
    }
  }

  @Test
  void oneSendersTransactionsSubmittedAtOnceStayInOrderAndAllCommit() throws Exception {
    try (RemoteLedger l = RemoteLedger.open(sequencer.uri(), genesis, DEADLINE)) {
      long nonce = l.view().account(payer.address()).nonce();
      List<java.util.concurrent.CompletableFuture<dev.verity.ledger.Committed>> results = new java.util.ArrayList<>();
      for (int i = 0; i < 40; i++) {
        results.add(l.submit(new Transaction(genesis.chainId(), payer.publicKey(), nonce + i, 0,
            new Action.Transfer(owner.address(), 1)).sign(payer)));
      }
      for (var r : results) {
        r.get(); // none refused: a reordering would show as BAD_NONCE
      }
      assertEquals(nonce + 40, l.view().account(payer.address()).nonce(), "read your own writes");
    }
  }

  @Test
  void theBatchEndpointRefusesMalformedBatches() {
    String path = "/v1/ledger/transactions/batch";
    NodeHarness.assertProblem(NodeHarness.post(sequencer.uri(), path, "application/json", "{".getBytes()), 400);
    NodeHarness.assertProblem(NodeHarness.post(sequencer.uri(), path, "application/json",
        "{\"transactions\": []}".getBytes()), 400, "1..256");
    NodeHarness.assertProblem(NodeHarness.post(sequencer.uri(), path, "application/json",
        "{\"transactions\": 5}".getBytes()), 400, "1..256");
    NodeHarness.assertProblem(NodeHarness.post(sequencer.uri(), path, "application/json",
        ("{\"transactions\": [" + "\"AA==\",".repeat(257) + "\"AA==\"]}").getBytes()), 400, "1..256");
    NodeHarness.assertProblem(NodeHarness.post(sequencer.uri(), path, "application/json",
        "{\"transactions\": [\"not base64!\"]}".getBytes()), 400, "transaction 0 of the batch");
    NodeHarness.assertProblem(NodeHarness.post(sequencer.uri(), path, "application/json",
        "{\"transactions\": [\"oWF4AQ==\"]}".getBytes()), 400, "transaction 0 of the batch");
  }

  @Test
  void refusesASequencerThatRunsAnotherChain() {
    GenesisConfig other = GenesisConfig.builder(genesis.chainId()).sequencer(Signer.generate().publicKey())
        .authority(owner.publicKey()).treasury(owner.address()).build();
    IOException e = assertThrows(IOException.class, () -> RemoteLedger.open(sequencer.uri(), other, DEADLINE));
    assertTrue(e.getMessage().contains("does not run this node's chain"), e.getMessage());
  }

  @Test
  void aWorkerWithTheSequencersKeyOrWithoutAUrlIsRefused() throws Exception {
    IllegalArgumentException noUrl = assertThrows(IllegalArgumentException.class,
        () -> NodeConfig.load(Optional.empty(), java.util.Map.of("VERITY_LEDGER", "remote")));
    assertTrue(noUrl.getMessage().contains("ledger.url"), noUrl.getMessage());
    IllegalArgumentException seqRole = assertThrows(IllegalArgumentException.class,
        () -> NodeConfig.load(Optional.empty(), java.util.Map.of("VERITY_LEDGER", "remote",
            "VERITY_LEDGER_URL", "http://127.0.0.1:1", "VERITY_ROLES", "worker,sequencer")));
    assertTrue(seqRole.getMessage().contains("sequencer"), seqRole.getMessage());
    Path other = dir.resolve("imposter");
    Files.createDirectories(other);
    Files.copy(dir.resolve("seq/node.key"), other.resolve("node.key"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> VerityNode.start(
        NodeConfig.defaults().withDataDir(other).withPort(0)
            .withLedger(LedgerSettings.remote(sequencer.uri(), Optional.of(genesisFile)))));
    assertTrue(e.getMessage().contains("ledger = embedded"), e.getMessage());
  }

  @Test
  void aFollowerStopsAtABlockThatDoesNotVerifyKeepsWhatItVerifiedAndRefusesToSubmit() throws Exception {
    try (MaliciousProxy proxy = new MaliciousProxy(sequencer.uri());
        RemoteLedger l = RemoteLedger.open(proxy.uri(), genesis, DEADLINE)) {
      Signer attacker = Signer.generate();
      // from now on every block with a transaction arrives with its first one replaced by the attacker's
      proxy.response = (method, path, body) -> path.startsWith("/v1/ledger/sync") ? injectTransfer(body, attacker) : body;
      await("the follower detects the forged block", () -> l.failure().isPresent());
      assertTrue(l.failure().get().contains("does not verify"), l.failure().get());
      long h = l.view().height();
      l.view().header().verifySignature(genesis.sequencer());
      assertEquals(0, l.view().account(attacker.address()).balance(), "nothing the sequencer did not sign");
      var tx = new Transaction(genesis.chainId(), client.publicKey(), l.view().account(client.address()).nonce(), 0,
          new Action.Transfer(owner.address(), 1)).sign(client);
      ExecutionException e = assertThrows(ExecutionException.class, () -> l.submit(tx).get());
      assertEquals(TransactionRejected.Reason.UNAVAILABLE, ((TransactionRejected) e.getCause()).reason());
      assertEquals(h, l.view().height(), "the view stays at the last verified block");
    }
  }

  @Test
  void unreadableAnswersNeverAdvanceTheFollowerWhichCatchesUpWhenTheyAreHonestAgain() throws Exception {
    try (MaliciousProxy proxy = new MaliciousProxy(sequencer.uri());
        RemoteLedger l = RemoteLedger.open(proxy.uri(), genesis, DEADLINE)) {
      java.util.Random random = new java.util.Random(7);
      java.util.concurrent.atomic.AtomicInteger garbled = new java.util.concurrent.atomic.AtomicInteger();
      proxy.response = (method, path, body) -> {
        if (!path.startsWith("/v1/ledger/sync")) {
          return body;
        }
        byte[] out = switch (garbled.getAndIncrement() % 3) {
          case 0 -> java.util.Arrays.copyOf(body, body.length / 2); // truncated JSON
          case 1 -> { // random bytes
            byte[] r = new byte[64];
            random.nextBytes(r);
            yield r;
          }
          default -> "{\"head\": 1, \"blocks\": 7}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        };
        return out;
      };
      long at = l.view().height();
      await("several unreadable answers", () -> garbled.get() >= 6);
      assertEquals(at, l.view().height(), "nothing unreadable is applied");
      assertTrue(l.failure().isEmpty(), "an unreadable answer is a transport failure, retried");
      proxy.response = (method, path, body) -> body;
      long head = new NodeLedgerProbe().sequencerHeight();
      await("the follower catches up", () -> l.view().height() >= head);
      l.view().header().verifySignature(genesis.sequencer());
    }
  }

  /** Replaces the first transaction of every block in a sync answer by a transfer the attacker signed. */
  private static byte[] injectTransfer(byte[] body, Signer attacker) throws IOException {
    var json = (com.fasterxml.jackson.databind.node.ObjectNode) NodeHarness.JSON.readTree(body);
    var blocks = NodeHarness.JSON.createArrayNode();
    for (var b : json.path("blocks")) {
      dev.verity.ledger.Block block = dev.verity.ledger.Block.decode(java.util.Base64.getDecoder().decode(b.asText()));
      if (!block.transactions().isEmpty()) {
        List<dev.verity.ledger.SignedTransaction> txs = new java.util.ArrayList<>(block.transactions());
        txs.set(0, new Transaction(genesis.chainId(), attacker.publicKey(), 0, 0,
            new Action.Faucet(1_000)).sign(attacker));
        block = new dev.verity.ledger.Block(block.header(), txs);
      }
      blocks.add(java.util.Base64.getEncoder().encodeToString(block.encode()));
    }
    json.set("blocks", blocks);
    return NodeHarness.JSON.writeValueAsBytes(json);
  }

  @Test
  void theSyncEndpointRefusesBadParametersAndAnswersEmptyBeyondTheHead() throws Exception {
    NodeHarness.assertProblem(NodeHarness.get(sequencer.uri(), "/v1/ledger/sync?from=-1"), 400, "negative");
    NodeHarness.assertProblem(NodeHarness.get(sequencer.uri(), "/v1/ledger/sync?from=abc"), 400, "whole number");
    NodeHarness.assertProblem(NodeHarness.get(sequencer.uri(), "/v1/ledger/sync?from=1&wait_millis=x"), 400,
        "whole number");
    var far = NodeHarness.get(sequencer.uri(), "/v1/ledger/sync?from=" + Long.MAX_VALUE + "&wait_millis=0");
    assertEquals(200, far.status());
    assertEquals(0, NodeHarness.JSON.readTree(far.body()).path("blocks").size());
    var some = NodeHarness.JSON.readTree(NodeHarness.get(sequencer.uri(), "/v1/ledger/sync?from=0").body());
    assertTrue(some.path("blocks").size() >= 1 && some.path("blocks").size() <= 256);
    assertEquals(0, dev.verity.ledger.Block.decode(java.util.Base64.getDecoder().decode(
        some.path("blocks").get(0).asText())).height());
  }

  @Test
  void aFollowerWithoutAGenesisFilePinsTheSequencersAndUsesThePinnedOneAfterwards() throws Exception {
    Path data = dir.resolve("pinning");
    NodeConfig config = NodeConfig.defaults().withDataDir(data).withPort(0)
        .withLedger(LedgerSettings.remote(sequencer.uri(), Optional.empty()))
        .withNetwork(fast(Set.of(NodeRole.VERIFIER)));
    try (VerityNode follower = VerityNode.start(config)) {
      assertTrue(follower.hasLedger());
    }
    Path pinned = data.resolve("ledger/genesis.cbor");
    assertEquals(genesis, GenesisConfig.decode(Files.readAllBytes(pinned)));
    // a pinned genesis of another chain: the sequencer's block 0 does not match, so the node refuses to start
    GenesisConfig other = GenesisConfig.builder("verity-other").sequencer(Signer.generate().publicKey())
        .authority(owner.publicKey()).treasury(owner.address()).build();
    Files.write(pinned, other.encode());
    IOException e = assertThrows(IOException.class, () -> VerityNode.start(config));
    assertTrue(e.getMessage().contains("does not run this node's chain"), e.getMessage());
  }

  /** Reads both nodes' ledgers through their HTTP APIs. */
  private static final class NodeLedgerProbe {
    long sequencerHeight() throws Exception {
      try (VerityClient c = VerityClient.builder(sequencer.uri()).build()) {
        return c.ledger().head().height();
      }
    }

    long workerHeight() {
      try (VerityClient c = VerityClient.builder(worker.uri()).build()) {
        return c.ledger().info().height();
      } catch (Exception e) {
        return -1;
      }
    }

    String sequencerHeaderHash(long h) throws Exception {
      try (VerityClient c = VerityClient.builder(sequencer.uri()).build()) {
        return c.ledger().block(h).header().hash().toHex();
      }
    }

    String workerHeaderHash(long h) throws Exception {
      try (VerityClient c = VerityClient.builder(worker.uri()).build()) {
        return c.ledger().block(h).header().hash().toHex();
      }
    }
  }

  static List<Peer> livePeers(VerityNode n) {
    return n.peers().live();
  }
}
