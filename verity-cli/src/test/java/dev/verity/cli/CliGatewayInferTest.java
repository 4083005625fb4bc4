package dev.verity.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.crypto.KeyFile;
import dev.verity.core.crypto.Signer;
import dev.verity.core.io.AtomicFiles;
import dev.verity.ledger.GenesisConfig;
import dev.verity.ledger.NodeRole;
import dev.verity.models.BuiltinModels;
import dev.verity.models.ExampleModel;
import dev.verity.node.LedgerSettings;
import dev.verity.node.NodeConfig;
import dev.verity.node.VerityNode;
import dev.verity.node.net.NetworkSettings;
import dev.verity.protocol.ModelManifest;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import dev.verity.protocol.tensor.TensorJson;
import dev.verity.sdk.ProgressListener;
import dev.verity.sdk.Publication;
import dev.verity.sdk.VerityClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code verity infer --any-worker} through a gateway: the job is for any worker, the worker's receipt is accepted. */
class CliGatewayInferTest {
  @TempDir Path dir;

  @Test
  void infersThroughAGatewayPayingAnyWorkerAndAcceptingItsReceipt() throws Exception {
    Signer seqKey = VerityNode.loadOrCreateKey(dir.resolve("seq"));
    Signer workerKey = VerityNode.loadOrCreateKey(dir.resolve("worker"));
    Signer owner = Signer.generate();
    Signer client = Signer.generate();
    GenesisConfig genesis = GenesisConfig.builder("verity-cli-gateway").devNetwork(true).sequencer(seqKey.publicKey())
        .authority(seqKey.publicKey()).treasury(seqKey.address()).minFee(0).allocate(seqKey.address(), 100_000)
        .allocate(workerKey.address(), 100_000).allocate(owner.address(), 1_000).allocate(client.address(), 10_000)
        .build();
    Path genesisFile = dir.resolve("genesis.cbor");
    AtomicFiles.write(genesisFile, genesis.encode());
    NetworkSettings fast = new NetworkSettings(Set.of(NodeRole.SEQUENCER, NodeRole.GATEWAY), Optional.empty(), 2, 0,
        Duration.ofMillis(150), Duration.ofMillis(1500));
    try (VerityNode seq = VerityNode.start(NodeConfig.defaults().withDataDir(dir.resolve("seq")).withPort(0)
            .withLedger(LedgerSettings.embedded(Optional.of(genesisFile)).withOperatorFee(20)).withNetwork(fast));
        VerityNode worker = VerityNode.start(NodeConfig.defaults().withDataDir(dir.resolve("worker")).withPort(0)
            .withLedger(LedgerSettings.remote(seq.uri(), Optional.of(genesisFile)).withOperatorFee(20))
            .withNetwork(new NetworkSettings(Set.of(NodeRole.WORKER), Optional.empty(), 2, 0, Duration.ofMillis(150),
                Duration.ofMillis(1500))))) {
      ExampleModel m = BuiltinModels.byName(BuiltinModels.BREAST_CANCER).orElseThrow();
      Path file = Files.write(dir.resolve("bc.onnx"), m.onnx());
      ModelManifest manifest;
      try (VerityClient c = VerityClient.builder(worker.uri()).signer(owner).build()) {
        manifest = c.publish(file, Publication.of("bc", "1.0.0").withPrice(5), ProgressListener.NONE);
        c.ledger().registerModel(manifest.cid(), 5);
      }
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (seq.peers().live().stream().noneMatch(p -> p.address().equals(workerKey.address())
          && p.serves(manifest.cid()))) {
        assertTrue(System.nanoTime() - end < 0, "the worker registers for the model");
        TimeUnit.MILLISECONDS.sleep(20); // polling interval of a bounded wait
      }
      Files.createDirectories(dir.resolve("home/keys"));
      KeyFile.write(dir.resolve("home/keys/client.key"), client);
      ExampleModel.Sample s = m.samples().get(0);
      Path inputs = Files.write(dir.resolve("inputs.json"),
          TensorJson.toBytes(NamedTensors.of("features", Tensor.ofFloats(s.shape(), s.values()))));
      String model = owner.address() + "/bc@1.0.0";

      CliLedgerEndToEndTest.Run viaGateway = CliLedgerEndToEndTest.run("infer", model, "--input", inputs.toString(),
          "--any-worker", "--liveness-ms", "5000", "--home", dir.resolve("home").toString(), "--node",
          seq.uri().toString(), "--key", "client");
      assertEquals(0, viaGateway.exit(), viaGateway.out() + viaGateway.err());
      assertTrue(viaGateway.err().contains("signed by node " + workerKey.publicKey()), viaGateway.err());
      assertTrue(viaGateway.err().contains("paid with job"), viaGateway.err());

      // without --any-worker the job would name the gateway as its worker: the ledger refuses to open it
      CliLedgerEndToEndTest.Run pinned = CliLedgerEndToEndTest.run("infer", model, "--input", inputs.toString(),
          "--home", dir.resolve("home").toString(), "--node", seq.uri().toString(), "--key", "client");
      assertNotEquals(0, pinned.exit(), pinned.out() + pinned.err());
      assertTrue(pinned.err().contains("as a worker"), pinned.err());
    }
  }
}
