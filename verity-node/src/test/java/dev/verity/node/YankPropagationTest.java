package dev.verity.node;

import static dev.verity.node.NodeHarness.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.crypto.Signer;
import dev.verity.ledger.NodeRole;
import dev.verity.models.BuiltinModels;
import dev.verity.models.ExampleModel;
import dev.verity.node.GatewayHarness.MutableDirectory;
import dev.verity.node.net.Peer;
import dev.verity.protocol.ModelManifest;
import dev.verity.protocol.YankNotice;
import dev.verity.sdk.ModelRef;
import dev.verity.sdk.ProgressListener;
import dev.verity.sdk.Publication;
import dev.verity.sdk.VerityClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A yank reaches every node holding the version: pushed at once to the live peers of the node
 * that accepted it, and pulled from the hubs by a node that missed the push. Only the owner's signed
 * notice moves, and every node checks it itself.
 */
class YankPropagationTest {
  static final ExampleModel model = BuiltinModels.all().get(0);

  /** Three nodes holding one version: a hub, and two workers whose peer lists the test sets. */
  private record Net(VerityNode hub, VerityNode w1, VerityNode w2, MutableDirectory hubPeers,
      MutableDirectory w1Peers, MutableDirectory w2Peers, ModelManifest manifest, Signer owner) implements AutoCloseable {
    @Override
    public void close() throws Exception {
      for (VerityNode n : List.of(hub, w1, w2)) {
        n.close();
      }
    }
  }

  private static VerityNode node(Path dir, Set<NodeRole> roles, MutableDirectory peers) throws Exception {
    return VerityNode.start(NodeConfig.defaults().withDataDir(dir).withPort(0)
        .withNetwork(GatewayHarness.network(roles, 2))
        .withReplica(NodeConfig.defaults().replica().withYankCheck(Duration.ZERO)), Optional.of(peers));
  }

  private static Peer peer(VerityNode n, NodeRole role) {
    return new Peer(n.address(), n.uri(), Set.of(role), Set.of(), 1, 2);
  }

  private static Net start(Path dir) throws Exception {
    Signer owner = Signer.generate();
    MutableDirectory hubPeers = new MutableDirectory(List.of());
    MutableDirectory w1Peers = new MutableDirectory(List.of());
    MutableDirectory w2Peers = new MutableDirectory(List.of());
    VerityNode hub = node(dir.resolve("hub"), Set.of(NodeRole.HUB), hubPeers);
    VerityNode w1 = node(dir.resolve("w1"), Set.of(NodeRole.WORKER), w1Peers);
    VerityNode w2 = node(dir.resolve("w2"), Set.of(NodeRole.WORKER), w2Peers);
    Path file = NodeHarness.write(dir.resolve("models"), model.name() + ".onnx", model.onnx());
    ModelManifest manifest;
    try (VerityClient c = VerityClient.builder(hub.uri()).signer(owner).build()) {
      manifest = c.publish(file, Publication.of(model.name(), "1.0.0"), ProgressListener.NONE);
    }
    for (VerityNode w : List.of(w1, w2)) {
      try (VerityClient c = VerityClient.builder(w.uri()).signer(owner).build()) {
        c.uploadBlob(file, ProgressListener.NONE);
        c.publishManifest(manifest);
      }
    }
    w1Peers.set(List.of(peer(hub, NodeRole.HUB), peer(w2, NodeRole.WORKER)));
    w2Peers.set(List.of(peer(hub, NodeRole.HUB), peer(w1, NodeRole.WORKER)));
    return new Net(hub, w1, w2, hubPeers, w1Peers, w2Peers, manifest, owner);
  }

  private static boolean yanked(VerityNode n, ModelManifest m) {
    return n.registry().entry(m.cid()).orElseThrow().yanked();
  }

  /** Waits (bounded) for something the nodes do in the background. */
  private static void await(String what, BooleanSupplier done) {
    long end = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!done.getAsBoolean()) {
      if (System.nanoTime() - end > 0) {
        throw new AssertionError("timed out waiting for " + what);
      }
      LockSupport.parkNanos(Duration.ofMillis(10).toNanos());
    }
  }

  private static NodeHarness.Response postNotice(VerityNode to, Signer caller, ModelManifest m, byte[] notice) {
    return NodeHarness.signedPost(to.uri(), caller, NodeApi.versionPath(m) + "/yank", "application/cbor", notice);
  }

  @Test
  void aYankIsPushedToLivePeersAndPulledByANodeThatMissedIt(@TempDir Path dir) throws Exception {
    try (Net net = start(dir)) {
      // the hub knows w1 only: w2 is "down" for the push
      net.hubPeers().set(List.of(peer(net.w1(), NodeRole.WORKER)));
      try (VerityClient c = VerityClient.builder(net.hub().uri()).signer(net.owner()).build()) {
        c.yank(ModelRef.of(net.manifest().ownerAddress(), net.manifest().repository(), net.manifest().version()),
            "bias found in evaluation");
      }
      await("the push to reach w1", () -> yanked(net.w1(), net.manifest()));
      assertEquals("bias found in evaluation",
          net.w1().registry().entry(net.manifest().cid()).orElseThrow().yank().orElseThrow().reason());
      byte[] body = NodeHarness.inferJson(NodeHarness.sampleInputs(model, 0));
      assertProblem(NodeHarness.post(net.w1().uri(), NodeApi.versionPath(net.manifest()) + "/infer",
          "application/json", body), 410);

      assertFalse(yanked(net.w2(), net.manifest()), "w2 missed the push");
      assertEquals(1, net.w2().yanks().checkNow(), "w2 learns the yank from its hub");
      assertTrue(yanked(net.w2(), net.manifest()));
      assertProblem(NodeHarness.post(net.w2().uri(), NodeApi.versionPath(net.manifest()) + "/infer",
          "application/json", body), 410);
      assertEquals(0, net.w2().yanks().checkNow(), "nothing left to learn");
      // the version document carries the owner's notice, which anyone can check
      String doc = NodeHarness.get(net.hub().uri(), NodeApi.versionPath(net.manifest())).json().path("yank_notice").asText();
      YankNotice.decode(java.util.Base64.getDecoder().decode(doc)).verify(net.manifest());
    }
  }

  @Test
  void aRelayedNoticeThatTheOwnerDidNotSignIsRefusedAndNothingIsRecorded(@TempDir Path dir) throws Exception {
    try (Net net = start(dir)) {
      Signer stranger = Signer.generate();
      byte[] forged = YankNotice.create(stranger, net.manifest(), "not the owner", System.currentTimeMillis()).encode();
      // relayed by a live peer (the hub, with its own key) but signed by a stranger
      Signer hubKey = VerityNode.loadOrCreateKey(dir.resolve("hub"));
      assertProblem(postNotice(net.w1(), hubKey, net.manifest(), forged), 403);
      // the owner's notice, relayed by a node that is no peer of w1
      byte[] real = YankNotice.create(net.owner(), net.manifest(), "real", System.currentTimeMillis()).encode();
      assertProblem(postNotice(net.w1(), stranger, net.manifest(), real), 403);
      // altered and truncated notices
      byte[] altered = real.clone();
      altered[altered.length / 2] ^= 1;
      int status = postNotice(net.w1(), hubKey, net.manifest(), altered).status();
      assertTrue(status == 400 || status == 403, "altered notice: " + status);
      assertProblem(postNotice(net.w1(), hubKey, net.manifest(), Arrays.copyOf(real, real.length / 2)), 400);
      assertFalse(yanked(net.w1(), net.manifest()), "no refused notice was recorded");
      // the same notice relayed by a live peer is taken
      assertEquals(200, postNotice(net.w1(), hubKey, net.manifest(), real).status());
      assertTrue(yanked(net.w1(), net.manifest()));
    }
  }
}
