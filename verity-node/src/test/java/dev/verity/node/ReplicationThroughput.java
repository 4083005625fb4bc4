package dev.verity.node;

import dev.verity.core.BlobCid;
import dev.verity.core.crypto.Signer;
import dev.verity.ledger.NodeRole;
import dev.verity.node.net.Peer;
import dev.verity.node.net.PeerDirectory;
import dev.verity.node.replica.ModelCache;
import dev.verity.node.replica.ReplicaSettings;
import dev.verity.protocol.ModelManifest;
import dev.verity.sdk.ProgressListener;
import dev.verity.sdk.Publication;
import dev.verity.sdk.VerityClient;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * Benchmark, not a test: how fast a worker replicates a model from a hub over loopback (manifest,
 * chunk index, every chunk verified and fsynced), with 1 and 4 chunks in flight, against a baseline
 * measured in the same run: a plain streaming download of the same blob (GET /v1/blobs/{cid}) hashed
 * as it arrives. Run:
 *
 * <pre>
 * mvn -B -o install -DskipTests -pl verity-node -am
 * mvn -B -o test-compile dependency:build-classpath -pl verity-node -Dmdep.includeScope=test -Dmdep.outputFile=cp.txt
 * java --enable-native-access=ALL-UNNAMED -cp verity-node/target/test-classes:verity-node/target/classes:$(cat verity-node/cp.txt) \
 *   dev.verity.node.ReplicationThroughput [megabytes, default 64]
 * </pre>
 */
public final class ReplicationThroughput {
  private ReplicationThroughput() {}

  public static void main(String[] args) throws Exception {
    int mb = args.length > 0 ? Integer.parseInt(args[0]) : 64;
    Path dir = Files.createTempDirectory("replication-bench");
    Signer owner = Signer.generate();
    Path file = NodeHarness.write(dir, "model.onnx", TestModels.wideMatMul(mb * (1 << 20) / 4 / 8, 8));
    long bytes = Files.size(file);
    try (VerityNode hub = VerityNode.start(NodeConfig.defaults().withDataDir(dir.resolve("hub")).withPort(0));
        VerityClient c = NodeHarness.client(hub, owner)) {
      ModelManifest m = c.publish(file, Publication.of("bench", "1.0.0"), ProgressListener.NONE);
      PeerDirectory peers = PeerDirectory.of(List.of(
          new Peer(hub.address(), hub.uri(), Set.of(NodeRole.HUB), Set.of(m.cid()), 1, 1)));
      System.out.printf("model: %d bytes (%d chunks)%n", bytes, (bytes + (1 << 20) - 1) >> 20);
      for (int round = 0; round < 3; round++) {
        long t0 = System.nanoTime();
        HttpResponse<InputStream> r = NodeHarness.HTTP.send(NodeHarness.request(hub.uri(), "/v1/blobs/" + m.model())
            .GET().build(), HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream in = r.body()) {
          if (!BlobCid.of(in).equals(m.model())) {
            throw new AssertionError("download does not match");
          }
        }
        report("baseline: streaming download + hash", bytes, System.nanoTime() - t0);
        for (int parallel : new int[] {1, 4}) {
          ReplicaSettings s = ReplicaSettings.DEFAULTS.withParallelFetches(parallel);
          Path workerDir = dir.resolve("worker-" + round + "-" + parallel);
          try (VerityNode worker = VerityNode.start(NodeConfig.defaults().withDataDir(workerDir).withPort(0)
              .withReplica(s), peers)) {
            long t1 = System.nanoTime();
            ModelManifest fetched = worker.replicas().manifest(m.cid()).manifest();
            try (ModelCache.Pin pin = worker.replicas().acquire(fetched)) {
              report("replicate, " + parallel + " chunk(s) in flight", bytes, System.nanoTime() - t1);
            }
          }
        }
      }
    }
  }

  private static void report(String what, long bytes, long nanos) {
    System.out.printf("  %-40s %8.1f ms  %7.1f MB/s%n", what, nanos / 1e6, bytes / 1e6 / (nanos / 1e9));
  }
}
