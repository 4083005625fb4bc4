package dev.verity.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.Cid;
import dev.verity.core.crypto.Signer;
import dev.verity.hub.BlobStore;
import dev.verity.hub.InMemoryBlobStore;
import dev.verity.hub.ModelRegistry;
import dev.verity.node.http.ApiException;
import dev.verity.node.replica.ModelCache;
import dev.verity.onnx.ModelSignatures;
import dev.verity.onnx.OnnxModelInfo;
import dev.verity.onnx.OnnxReader;
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
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
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

  @Test
  void aBadlySignedCopyOfKeptBytesDeletesNothing() throws Exception {
    Signer worker = Signer.generate();
    Signer owner = Signer.generate();
    Signer stranger = Signer.generate();
    MutableDirectory peers = new MutableDirectory(List.of(new Peer(worker.publicKey().address(),
        URI.create("http://127.0.0.1:9"), Set.of(NodeRole.WORKER), Set.of(), 1, 1)));
    try (VerityNode hub = VerityNode.start(NodeConfig.defaults().withDataDir(dir.resolve("hub")).withPort(0)
        .withUploadRetention(SHORT), Optional.of(peers))) {
      // dispute evidence a live worker uploaded (public: anyone may download it), and an upload
      // its owner has yet to publish
      Cid evidence = upload(hub, worker, "a step opening anyone can download".getBytes(StandardCharsets.UTF_8));
      byte[] unpublished = "an owner's upload, not yet published".getBytes(StandardCharsets.UTF_8);
      Cid pending = upload(hub, owner, unpublished);
      byte[] fresh = "bytes nobody had uploaded".getBytes(StandardCharsets.UTF_8);
      for (byte[] bytes : List.of(hub.blobs().readAll(evidence), unpublished, fresh)) {
        // signed by a valid key, but over other bytes: refused once the body has been read
        String auth = NodeHarness.authorization(stranger, "POST", "/v1/blobs", "other".getBytes(StandardCharsets.UTF_8),
            System.currentTimeMillis());
        NodeHarness.assertProblem(NodeHarness.send(NodeHarness.request(hub.uri(), "/v1/blobs")
            .header("Authorization", auth).header("Content-Type", "application/octet-stream")
            .POST(HttpRequest.BodyPublishers.ofByteArray(bytes)).build()), 401, "does not verify");
      }
      assertTrue(hub.blobs().contains(evidence), "the evidence is still there");
      assertFalse(hub.uploads().isPending(evidence), "and still kept for good");
      assertTrue(hub.blobs().contains(pending) && hub.uploads().isPending(pending));
      Cid freshCid = BlobStore.cidOf(fresh);
      assertTrue(hub.uploads().isPending(freshCid), "new bytes from a refused upload are left to the sweep");
      pastRetention();
      assertEquals(2, hub.uploads().sweep());
      assertFalse(hub.blobs().contains(freshCid));
      assertTrue(hub.blobs().contains(evidence));
    }
  }

  @Test
  void aSweepNeverDeletesTheBlobOfAVersionBeingRecorded() throws Exception {
    ExampleModel model = BuiltinModels.all().get(0);
    OnnxModelInfo info = OnnxReader.readInfo(model.onnx());
    Signer owner = Signer.generate();
    BlobStore blobs = new InMemoryBlobStore();
    ModelRegistry registry = ModelRegistry.open(dir.resolve("registry"));
    ModelCache cache = ModelCache.open(dir.resolve("cache"), blobs, 1 << 20, registry::modelBlobs, blob -> { });
    try (UploadRetention retention = new UploadRetention(dir.resolve("pending.log"), Clock.systemUTC(), blobs, registry,
        cache, SHORT)) {
      Cid blob = blobs.put(model.onnx());
      retention.uploaded(blob, false);
      pastRetention();
      ModelManifest m = ModelManifest.builder().owner(owner.publicKey()).repository("raced").version("1.0.0")
          .opsets(ModelSignatures.opsets(info)).inputs(ModelSignatures.inputs(info))
          .outputs(ModelSignatures.outputs(info)).model(blob, model.onnx().length).sign(owner);
      // A sweep starts while the version is being recorded: it must wait, then see the version.
      CompletableFuture<Integer> swept = new CompletableFuture<>();
      Thread sweeper = new Thread(() -> {
        try {
          swept.complete(retention.sweep());
        } catch (Throwable t) {
          swept.completeExceptionally(t);
        }
      });
      retention.recordVersion(blob, () -> {
        sweeper.start();
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (sweeper.isAlive() && sweeper.getState() != Thread.State.WAITING && System.nanoTime() < until) {
          Thread.onSpinWait();
        }
        try {
          return registry.publish(m);
        } catch (dev.verity.core.VerificationException e) {
          throw new AssertionError(e);
        }
      });
      assertEquals(0, swept.get(10, TimeUnit.SECONDS), "the version names it now");
      assertTrue(blobs.contains(blob));
      assertFalse(retention.isPending(blob));

      // The other order: an upload swept first cannot be named afterwards.
      byte[] other = "swept before anyone published it".getBytes(StandardCharsets.UTF_8);
      Cid gone = blobs.put(other);
      retention.uploaded(gone, false);
      pastRetention();
      assertEquals(1, retention.sweep());
      ApiException refused = assertThrows(ApiException.class,
          () -> retention.recordVersion(gone, () -> { throw new AssertionError("must not record"); }));
      assertEquals(400, refused.status());
      assertTrue(refused.getMessage().contains("upload it again"), refused.getMessage());
    }
  }
}
