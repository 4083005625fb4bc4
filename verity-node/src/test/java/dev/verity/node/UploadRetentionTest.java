package dev.verity.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.Cid;
import dev.verity.core.crypto.Signer;
import dev.verity.ledger.NodeRole;
import dev.verity.models.BuiltinModels;
import dev.verity.models.ExampleModel;
import dev.verity.node.GatewayHarness.MutableDirectory;
import dev.verity.node.net.Peer;
import dev.verity.protocol.ModelManifest;
import dev.verity.sdk.ProgressListener;
import dev.verity.sdk.Publication;
import dev.verity.sdk.VerityClient;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Uploads that no published version names are deleted after the retention; published ones, those
 * by registered live nodes, and everything on a node that keeps uploads for ever stay. The list of
 * pending uploads survives a restart.
 */
class UploadRetentionTest {
  static final Duration SHORT = Duration.ofMillis(300);
  @TempDir Path dir;

  static Cid upload(VerityNode node, Signer key, byte[] bytes) {
    NodeHarness.Response r = ReplayedRequestTest.send(node, "POST", "/v1/blobs",
        NodeHarness.authorization(key, "POST", "/v1/blobs", bytes, System.currentTimeMillis()), bytes);
    assertEquals(201, r.status(), r.text());
    return Cid.parse(r.json().path("cid").asText());
  }

  static void pastRetention() throws InterruptedException {
    Thread.sleep(SHORT.toMillis() + 100);
  }

  @Test
  void anUnpublishedUploadIsDeletedAndAPublishedOneKept() throws Exception {
    ExampleModel model = BuiltinModels.all().get(0);
    Path file = NodeHarness.write(dir.resolve("models"), model.name() + ".onnx", model.onnx());
    Signer owner = Signer.generate();
    byte[] junk = "bytes nobody will ever publish".getBytes(StandardCharsets.UTF_8);
    Cid junkCid;
    ModelManifest published;
    NodeConfig config = NodeConfig.defaults().withDataDir(dir.resolve("node")).withPort(0).withUploadRetention(SHORT);
    try (VerityNode node = VerityNode.start(config)) {
      junkCid = upload(node, owner, junk);
      try (VerityClient c = VerityClient.builder(node.uri()).signer(owner).build()) {
        published = c.publish(file, Publication.of(model.name(), "1.0.0"), ProgressListener.NONE);
      }
      assertTrue(node.uploads().isPending(junkCid));
      assertTrue(node.uploads().isPending(published.model()), "uploaded before its manifest was published");
      assertEquals(0, node.uploads().sweep(), "nothing is old yet");
    }
    // the list is on disk: a restart neither forgets the upload nor restarts its clock
    try (VerityNode node = VerityNode.start(config)) {
      assertTrue(node.uploads().isPending(junkCid));
      pastRetention();
      assertEquals(1, node.uploads().sweep());
      assertFalse(node.blobs().contains(junkCid), "the unpublished upload is gone");
      assertFalse(node.uploads().isPending(junkCid));
      assertTrue(node.blobs().contains(published.model()), "a version names it: kept");
      assertFalse(node.uploads().isPending(published.model()), "and no longer tracked");
      NodeHarness.Response infer = NodeHarness.post(node.uri(), NodeHarness.versionPath(published) + "/infer",
          "application/json", NodeHarness.inferJson(NodeHarness.sampleInputs(model, 0)));
      assertEquals(200, infer.status(), infer.text());
      // uploading it again starts it afresh
      Cid again = upload(node, owner, junk);
      assertEquals(junkCid, again);
      assertTrue(node.blobs().contains(junkCid) && node.uploads().isPending(junkCid));
    }
  }

  @Test
  void uploadsByLiveNodesAndOnNodesThatKeepEverythingStay() throws Exception {
    Signer worker = Signer.generate();
    byte[] opening = "a step opening: dispute evidence".getBytes(StandardCharsets.UTF_8);
    MutableDirectory peers = new MutableDirectory(List.of(new Peer(worker.publicKey().address(),
        URI.create("http://127.0.0.1:9"), Set.of(NodeRole.WORKER), Set.of(), 1, 1)));
    try (VerityNode hub = VerityNode.start(NodeConfig.defaults().withDataDir(dir.resolve("hub")).withPort(0)
        .withUploadRetention(SHORT), Optional.of(peers))) {
      Cid cid = upload(hub, worker, opening);
      assertFalse(hub.uploads().isPending(cid), "a registered live node's upload is kept");
      pastRetention();
      assertEquals(0, hub.uploads().sweep());
      assertTrue(hub.blobs().contains(cid));
    }
    try (VerityNode keeper = VerityNode.start(NodeConfig.defaults().withDataDir(dir.resolve("keeper")).withPort(0)
        .withUploadRetention(Duration.ZERO))) {
      Cid cid = upload(keeper, Signer.generate(), "kept for ever".getBytes(StandardCharsets.UTF_8));
      assertFalse(keeper.uploads().isPending(cid));
      pastRetention();
      assertEquals(0, keeper.uploads().sweep());
      assertTrue(keeper.blobs().contains(cid));
    }
    assertEquals(Duration.ofHours(24), NodeConfig.defaults().uploadRetention());
  }
}
