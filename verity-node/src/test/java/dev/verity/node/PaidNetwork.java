package dev.verity.node;

import dev.verity.core.crypto.Address;
import dev.verity.core.crypto.Signer;
import dev.verity.core.io.AtomicFiles;
import dev.verity.ledger.GenesisConfig;
import dev.verity.ledger.NodeRole;
import dev.verity.models.BuiltinModels;
import dev.verity.models.ExampleModel;
import dev.verity.node.gateway.GatewaySettings;
import dev.verity.node.net.NetworkSettings;
import dev.verity.protocol.ModelManifest;
import dev.verity.sdk.ProgressListener;
import dev.verity.sdk.Publication;
import dev.verity.sdk.VerityClient;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A small paying network in this JVM over loopback HTTP: a sequencer node (embedded ledger) that is
 * also the gateway, and workers that follow its ledger remotely, each with its own key, port and
 * data directory; a model owner and a client funded at genesis. Worker 0 is the hub the model is
 * first published to; the others receive a copy.
 */
final class PaidNetwork implements AutoCloseable {
  static final long ROYALTY = 5;
  static final long FEE = 20;
  static final long PRICE = ROYALTY + FEE;
  static final Duration DEADLINE = Duration.ofSeconds(30);

  final Path dir;
  final Signer owner = Signer.generate();
  final Signer client = Signer.generate();
  final GenesisConfig genesis;
  final Path genesisFile;
  final Signer sequencerKey;
  final List<Signer> workerKeys = new ArrayList<>();
  final List<VerityNode> workers = new ArrayList<>();
  final ExampleModel model = BuiltinModels.all().get(0);
  VerityNode sequencer;
  ModelManifest manifest;

  private PaidNetwork(Path dir, int workerCount) throws IOException {
    this.dir = dir;
    sequencerKey = VerityNode.loadOrCreateKey(dir.resolve("seq"));
    GenesisConfig.Builder g = GenesisConfig.builder("verity-gateway-test").devNetwork(true)
        .sequencer(sequencerKey.publicKey()).authority(sequencerKey.publicKey()).treasury(sequencerKey.address())
        .minFee(0).allocate(sequencerKey.address(), 100_000).allocate(owner.address(), 1_000)
        .allocate(client.address(), 1_000_000);
    for (int i = 0; i < workerCount; i++) {
      Signer k = VerityNode.loadOrCreateKey(dir.resolve("w" + i));
      workerKeys.add(k);
      g.allocate(k.address(), 100_000);
      workers.add(null);
    }
    genesis = g.build();
    genesisFile = dir.resolve("genesis.cbor");
    AtomicFiles.write(genesisFile, genesis.encode());
  }

  static NetworkSettings network(Set<NodeRole> roles) {
    return new NetworkSettings(roles, Optional.empty(), 2, 0, Duration.ofMillis(150), Duration.ofMillis(1500));
  }

  /**
   * Starts the sequencer-gateway and {@code workerCount} workers, publishes the model on worker 0
   * (hub and worker), copies it to the others, registers it on the ledger and waits until the
   * gateway sees every worker live and serving it.
   */
  static PaidNetwork start(Path dir, int workerCount, GatewaySettings gateway) throws Exception {
    PaidNetwork n = new PaidNetwork(dir, workerCount);
    try {
      n.sequencer = VerityNode.start(NodeConfig.defaults().withDataDir(dir.resolve("seq")).withPort(0)
          .withLedger(LedgerSettings.embedded(Optional.of(n.genesisFile)).withReceiptBatch(4, Duration.ofMillis(100)))
          .withNetwork(network(Set.of(NodeRole.SEQUENCER, NodeRole.GATEWAY))).withGateway(gateway));
      for (int i = 0; i < workerCount; i++) {
        n.startWorker(i);
      }
      Path file = NodeHarness.write(dir.resolve("models"), n.model.name() + ".onnx", n.model.onnx());
      for (int i = 0; i < workerCount; i++) {
        try (VerityClient c = VerityClient.builder(n.workers.get(i).uri()).signer(n.owner).build()) {
          if (i == 0) {
            n.manifest = c.publish(file, Publication.of(n.model.name(), "1.0.0").withPrice(ROYALTY), ProgressListener.NONE);
            c.ledger().registerModel(n.manifest.cid(), ROYALTY);
          } else {
            c.uploadBlob(file, ProgressListener.NONE);
            c.publishManifest(n.manifest);
          }
        }
      }
      for (int i = 0; i < workerCount; i++) {
        n.awaitLive(i);
      }
      return n;
    } catch (Exception e) {
      n.close();
      throw e;
    }
  }

  /** Starts worker {@code i} (again) on its data directory: same key, a new port. */
  VerityNode startWorker(int i) throws IOException {
    Set<NodeRole> roles = i == 0 ? Set.of(NodeRole.WORKER, NodeRole.HUB) : Set.of(NodeRole.WORKER);
    VerityNode w = VerityNode.start(NodeConfig.defaults().withDataDir(dir.resolve("w" + i)).withPort(0)
        .withLedger(LedgerSettings.remote(sequencer.uri(), Optional.of(genesisFile)).withOperatorFee(FEE)
            .withReceiptBatch(4, Duration.ofMillis(100)))
        .withNetwork(network(roles)));
    workers.set(i, w);
    return w;
  }

  void stopWorker(int i) throws IOException {
    VerityNode w = workers.get(i);
    workers.set(i, null);
    if (w != null) {
      w.close();
    }
  }

  Address workerAddress(int i) {
    return workerKeys.get(i).address();
  }

  /** Waits until the gateway sees worker {@code i} live, at its current endpoint, serving the model. */
  void awaitLive(int i) throws InterruptedException {
    VerityNode w = workers.get(i);
    RemoteLedgerTest.await("worker " + i + " is live for the model", () -> sequencer.peers().live().stream()
        .anyMatch(p -> p.address().equals(workerAddress(i)) && p.endpoint().equals(w.uri()) && p.serves(manifest.cid())));
  }

  /** A client of the gateway signing with the funded client key, accepting live registered workers' receipts. */
  VerityClient client() {
    return VerityClient.builder(sequencer.uri()).signer(client).acceptRegisteredWorkers(Duration.ofSeconds(5))
        .sequencer(sequencerKey.publicKey()).build();
  }

  @Override
  public void close() throws IOException {
    for (int i = 0; i < workers.size(); i++) {
      stopWorker(i);
    }
    if (sequencer != null) {
      sequencer.close();
    }
  }
}
