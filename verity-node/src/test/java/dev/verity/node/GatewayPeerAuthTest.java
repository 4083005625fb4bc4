package dev.verity.node;

import static dev.verity.node.NodeHarness.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.crypto.Signer;
import dev.verity.ledger.NodeRole;
import dev.verity.models.BuiltinModels;
import dev.verity.models.ExampleModel;
import dev.verity.node.GatewayHarness.MutableDirectory;
import dev.verity.node.gateway.Gateway;
import dev.verity.node.net.Peer;
import dev.verity.protocol.ModelManifest;
import dev.verity.sdk.InferenceResult;
import dev.verity.sdk.ProgressListener;
import dev.verity.sdk.Publication;
import dev.verity.sdk.VerityClient;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Gateway-to-worker calls are authenticated: the gateway signs every forwarded request with its node
 * key ({@link Gateway#PEER_AUTHORIZATION_HEADER}); the worker checks that signature and that its
 * signer is a live peer, and a worker set to {@code inference_peers_only} runs nothing else.
 */
class GatewayPeerAuthTest {
  @TempDir static Path dir;
  static final Signer owner = Signer.generate();
  static final ExampleModel model = BuiltinModels.all().get(0);
  static final MutableDirectory workerPeers = new MutableDirectory(List.of());
  static VerityNode worker;
  static VerityNode gateway;
  static ModelManifest manifest;

  @BeforeAll
  static void start() throws Exception {
    Path file = NodeHarness.write(dir.resolve("models"), model.name() + ".onnx", model.onnx());
    worker = VerityNode.start(NodeConfig.defaults().withDataDir(dir.resolve("worker")).withPort(0)
        .withNetwork(GatewayHarness.network(Set.of(NodeRole.WORKER, NodeRole.HUB), 4).withPeersOnly(true)),
        java.util.Optional.of(workerPeers));
    try (VerityClient c = VerityClient.builder(worker.uri()).signer(owner).build()) {
      manifest = c.publish(file, Publication.of(model.name(), "1.0.0"), ProgressListener.NONE);
    }
    gateway = GatewayHarness.gateway(dir.resolve("gateway"),
        new MutableDirectory(List.of(GatewayHarness.peer(worker, 1, 4, manifest.cid()))), GatewayHarness.FAST);
    workerPeers.set(List.of(new Peer(gateway.address(), gateway.uri(), Set.of(NodeRole.GATEWAY), Set.of(), 1, 1)));
  }

  @AfterAll
  static void stop() throws Exception {
    gateway.close();
    worker.close();
  }

  static String path() {
    return NodeHarness.versionPath(manifest) + "/infer";
  }

  static byte[] body() {
    return NodeHarness.inferJson(NodeHarness.sampleInputs(model, 0));
  }

  static NodeHarness.Response postToWorker(String peerAuthorization, byte[] body) {
    HttpRequest.Builder b = NodeHarness.request(worker.uri(), path()).header("Content-Type", "application/json")
        .header(Gateway.FORWARDED_HEADER, "1");
    if (peerAuthorization != null) {
      b.header(Gateway.PEER_AUTHORIZATION_HEADER, peerAuthorization);
    }
    return NodeHarness.send(b.POST(HttpRequest.BodyPublishers.ofByteArray(body)).build());
  }

  static long forwardedCount() {
    return NodeHarness.get(worker.uri(), "/metrics").text().lines()
        .filter(l -> l.startsWith("verity_inferences_forwarded_by_peers"))
        .mapToLong(l -> (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
  }

  @Test
  void aRequestForwardedByTheGatewayCarriesItsSignatureAndRuns() throws Exception {
    long before = forwardedCount();
    try (VerityClient c = VerityClient.builder(gateway.uri()).trustNodes(Set.of(worker.publicKey())).build()) {
      InferenceResult r = c.infer(dev.verity.sdk.ModelRef.of(manifest.ownerAddress(), manifest.repository(),
          manifest.version()), NodeHarness.sampleInputs(model, 1));
      assertEquals(worker.publicKey(), r.receipt().node());
    }
    assertEquals(before + 1, forwardedCount(), "the worker saw the gateway's signature");
  }

  @Test
  void aPeersOnlyWorkerRefusesAClientCallingItDirectly() {
    NodeHarness.Response r = NodeHarness.post(worker.uri(), path(), "application/json", body());
    assertTrue(assertProblem(r, 403).path("detail").asText().contains("send the request to a gateway"), r.text());
  }

  @Test
  void aForgedStaleOrMisdirectedPeerSignatureIsRefusedAndTheWorkerKeepsServing() {
    Signer gatewayKey = Signer.generate(); // not the gateway's: a stranger
    byte[] body = body();
    long now = System.currentTimeMillis();
    // signed by a key that is no live peer
    assertProblem(postToWorker(NodeHarness.authorization(gatewayKey, "POST", path(), body, now), body), 403);
    // malformed
    assertProblem(postToWorker("Verity-Ed25519 not-a-signature", body), 401);
    // over other bytes than were sent
    byte[] other = body.clone();
    other[other.length - 3] ^= 1;
    assertProblem(postToWorker(NodeHarness.authorization(gatewayKey, "POST", path(), other, now), body), 401);
    // too old
    assertProblem(postToWorker(NodeHarness.authorization(gatewayKey, "POST", path(), body, now - 3_600_000), body), 401);
    // for another path
    assertProblem(postToWorker(NodeHarness.authorization(gatewayKey, "POST", "/v1/other", body, now), body), 401);
    // and real requests still run through the gateway
    NodeHarness.Response ok = NodeHarness.post(gateway.uri(), path(), "application/json", body);
    assertEquals(200, ok.status(), ok.text());
  }

  /**
   * Many clients sending the very same inference at once: the gateway forwards them all with one
   * key, often within one millisecond. Each forwarded call has its own nonce, so the worker's replay
   * check takes every one (with signatures over method, path, time and body only, the second of two
   * identical calls in one millisecond was refused as a replay of the first).
   */
  @Test
  void identicalRequestsForwardedAtOnceAreAllRun() throws Exception {
    byte[] body = body();
    long before = forwardedCount();
    int threads = 8;
    int each = 40;
    java.util.concurrent.atomic.AtomicInteger ok = new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.ConcurrentLinkedQueue<String> failures = new java.util.concurrent.ConcurrentLinkedQueue<>();
    java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
    try (java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads)) {
      for (int t = 0; t < threads; t++) {
        pool.submit(() -> {
          go.await();
          for (int i = 0; i < each; i++) {
            NodeHarness.Response r = NodeHarness.post(gateway.uri(), path(), "application/json", body);
            if (r.status() == 200) {
              ok.incrementAndGet();
            } else {
              failures.add(r.status() + " " + r.text());
            }
          }
          return null;
        });
      }
      go.countDown();
    }
    assertEquals(List.of(), List.copyOf(failures).subList(0, Math.min(3, failures.size())));
    assertEquals(threads * each, ok.get());
    assertEquals(before + threads * each, forwardedCount());
  }

  /**
   * A worker that refuses the gateway itself (here: a peers-only worker that does not know this
   * gateway) is a worker failure, not the client's: the gateway goes on to another worker, and with
   * none left the client gets 503 with Retry-After, never the worker's 401 or 403.
   */
  @Test
  void aWorkerThatRefusesTheGatewayIsSkippedAndNeverBlamesTheClient() throws Exception {
    try (VerityNode open = GatewayHarness.worker(dir.resolve("open-worker"), 4)) {
      try (VerityClient c = VerityClient.builder(open.uri()).signer(owner).build()) {
        c.uploadBlob(NodeHarness.write(dir.resolve("models2"), model.name() + ".onnx", model.onnx()), ProgressListener.NONE);
        c.publishManifest(manifest);
      }
      MutableDirectory both = new MutableDirectory(List.of(GatewayHarness.peer(worker, 1, 4, manifest.cid()),
          GatewayHarness.peer(open, 1, 4, manifest.cid())));
      try (VerityNode stranger = GatewayHarness.gateway(dir.resolve("stranger"), both, GatewayHarness.FAST)) {
        for (int i = 0; i < 10; i++) {
          NodeHarness.Response r = NodeHarness.post(stranger.uri(), path(), "application/json", body());
          assertEquals(200, r.status(), r.text());
        }
      }
      MutableDirectory refusing = new MutableDirectory(List.of(GatewayHarness.peer(worker, 1, 4, manifest.cid())));
      try (VerityNode stranger = GatewayHarness.gateway(dir.resolve("stranger2"), refusing, GatewayHarness.FAST)) {
        NodeHarness.Response r = NodeHarness.post(stranger.uri(), path(), "application/json", body());
        com.fasterxml.jackson.databind.JsonNode problem = assertProblem(r, 503);
        assertTrue(problem.path("detail").asText().contains("not a registered live node"), r.text());
        assertTrue(r.headers().firstValue("Retry-After").isPresent(), "the client is told when to retry");
      }
    }
  }
}
