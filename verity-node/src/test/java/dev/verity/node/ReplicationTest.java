package dev.verity.node;

import static dev.verity.node.NodeHarness.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.verity.core.ChunkIndex;
import dev.verity.core.Cid;
import dev.verity.core.crypto.Address;
import dev.verity.core.crypto.Signer;
import dev.verity.ledger.NodeRole;
import dev.verity.node.net.Peer;
import dev.verity.node.net.PeerDirectory;
import dev.verity.node.replica.ReplicaSettings;
import dev.verity.onnx.Dim;
import dev.verity.onnx.ElementType;
import dev.verity.onnx.OnnxModel;
import dev.verity.onnx.OnnxWriter;
import dev.verity.protocol.ModelManifest;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import dev.verity.sdk.InferenceResult;
import dev.verity.sdk.ModelRef;
import dev.verity.sdk.ProgressListener;
import dev.verity.sdk.Publication;
import dev.verity.sdk.VerityClient;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Several nodes in this process, talking over real HTTP on loopback: a hub that holds published
 * models and workers that fetch them block by block when asked to run a model they lack. Peers that
 * lie are MaliciousProxy instances in front of the hub, announced to the workers as peers of their own.
 */
class ReplicationTest {
  private static final String V1 = "1.0.0";
  private static final int FEATURES = 32;
  /** 32 x 24576 + 24576 x 8 float32 weights: about 3.9 MB, so 4 chunks under a chunk index. */
  private static final int HIDDEN = 24576;

  @TempDir Path tmp;
  private final Signer owner = Signer.generate();
  private final List<AutoCloseable> open = new ArrayList<>();
  /** The peers every node of the test sees (each sees all but itself). */
  private final AtomicReference<List<Peer>> network = new AtomicReference<>(List.of());
  private VerityNode hub;
  private VerityClient ownerClient;

  private void startHub(ReplicaSettings settings) throws Exception {
    hub = node("hub", settings);
    ownerClient = NodeHarness.client(hub, owner);
    open.add(ownerClient);
  }

  @AfterEach
  void stopAll() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }

  // ---- fetching ------------------------------------------------------------------------------

  @Test
  void workerFetchesAMultiChunkModelFromTheHubAndServesVerifiedReceipts() throws Exception {
    startHub(ReplicaSettings.DEFAULTS);
    ModelManifest m = publishMlp("mlp", 1, Visibility.PUBLIC);
    VerityNode worker = node("worker", ReplicaSettings.DEFAULTS);
    announce(hubPeer(Set.of(m.cid())), self(worker));

    JsonNode fromWorker = infer(worker, m, null);
    assertEquals(infer(hub, m, null).get("outputs"), fromWorker.get("outputs"));
    int blocks = ChunkIndex.chunkCountFor(m.modelSize()) + 1;
    assertTrue(blocks >= 5, "the model spans several chunks");
    assertEquals(blocks, worker.replicas().blocksFetched(), "the index and every chunk, each once");
    assertTrue(worker.replicas().cache().isReplicated(m.model()));

    // The worker now serves the model like its own: the SDK verifies the worker's receipt.
    try (VerityClient c = NodeHarness.client(worker, Signer.generate())) {
      InferenceResult r = c.infer(ModelRef.of(owner.address(), "mlp", V1), inputs(1));
      assertEquals(worker.publicKey(), r.receipt().node());
      assertEquals(m.cid(), r.receipt().manifest());
    }
  }

  @Test
  void aWorkerThatReplicatedAModelServesItToOthersOnceTheHubIsGone() throws Exception {
    startHub(ReplicaSettings.DEFAULTS);
    ModelManifest m = publishMlp("mlp", 13, Visibility.PUBLIC);
    VerityNode first = node("first", ReplicaSettings.DEFAULTS);
    VerityNode second = node("second", ReplicaSettings.DEFAULTS);
    announce(hubPeer(Set.of(m.cid())), self(first), self(second));
    JsonNode expected = infer(first, m, null).get("outputs");

    open.remove(hub);
    hub.close();
    announce(hubPeer(Set.of(m.cid())), new Peer(first.address(), first.uri(), Set.of(NodeRole.WORKER),
        Set.of(m.cid()), 100, 8), self(second));
    assertEquals(expected, infer(second, m, null).get("outputs"));
    assertEquals(ChunkIndex.chunkCountFor(m.modelSize()) + 1, second.replicas().blocksFetched());
    assertEquals(List.of(), second.replicas().avoidedPeers(), "a hub that is down is no liar");
  }

  @Test
  void workerFetchesAVersionAskedByNameButNeverGuessesTheLatest() throws Exception {
    startHub(ReplicaSettings.DEFAULTS);
    ModelManifest m = publishMlp("named", 10, Visibility.PUBLIC);
    VerityNode worker = node("worker", ReplicaSettings.DEFAULTS);
    announce(hubPeer(Set.of()), self(worker));
    byte[] body = NodeHarness.inferJson(inputs(1));

    assertProblem(NodeHarness.post(worker.uri(), "/v1/models/" + owner.address() + "/named/latest/infer",
        "application/json", body), 404, "exact version");
    NodeHarness.Response r = NodeHarness.post(worker.uri(), NodeHarness.versionPath(m) + "/infer", "application/json", body);
    assertEquals(200, r.status(), r::text);
    assertEquals(m.cid().toString(), r.json().path("manifest_cid").asText());
    assertEquals(infer(hub, m, null).get("outputs"), r.json().get("outputs"));
    assertProblem(NodeHarness.post(worker.uri(), "/v1/models/" + owner.address() + "/named/9.9.9/infer",
        "application/json", body), 404, "peer");

    ModelManifest gone = publishMlp("gone", 12, Visibility.PUBLIC);
    ownerClient.yank(ModelRef.of(owner.address(), "gone", V1), "wrong weights");
    assertProblem(NodeHarness.post(worker.uri(), NodeHarness.versionPath(gone) + "/infer", "application/json", body),
        404, "yanked");
  }

  @Test
  void aPeerServingTamperedChunksIsCaughtAvoidedAndTheChunkFetchedFromAnother() throws Exception {
    startHub(ReplicaSettings.DEFAULTS);
    ModelManifest m = publishMlp("mlp", 2, Visibility.PUBLIC);
    VerityNode worker = node("worker", ReplicaSettings.DEFAULTS);
    MaliciousProxy liar = proxy();
    liar.response = (method, path, body) -> path.contains("/blocks/") ? flipped(body) : body;
    Peer liarPeer = fakePeer(liar, Set.of(m.cid()));
    announce(liarPeer, hubPeer(Set.of()), self(worker)); // the liar announces the model, so it is asked first

    JsonNode fromWorker = infer(worker, m, null);
    assertEquals(infer(hub, m, null).get("outputs"), fromWorker.get("outputs"));
    assertEquals(List.of(liarPeer.address()), worker.replicas().avoidedPeers());
    String metrics = NodeHarness.get(worker.uri(), "/metrics").text();
    assertTrue(metrics.contains("verity_replica_bad_peers_total 1\n"), metrics);
    assertTrue(metrics.contains("verity_replica_models_fetched_total 1\n"), metrics);
    assertEquals(1, liar.seen.stream().filter(s -> s.contains("/blocks/")).count(),
        "after its first wrong block the liar is asked nothing more");
    assertEquals(ChunkIndex.chunkCountFor(m.modelSize()) + 1, worker.replicas().blocksFetched());
  }

  @Test
  void hostileResponsesAreNeverStoredAndTheModelComesFromAnHonestPeerLater() throws Exception {
    startHub(ReplicaSettings.DEFAULTS);
    ModelManifest m = publishMlp("mlp", 3, Visibility.PUBLIC);
    int chunks = ChunkIndex.chunkCountFor(m.modelSize());
    // Each lie, and how many (honest) blocks the worker stores from the liar before it lies.
    Map<String, Lie> lies = new LinkedHashMap<>();
    lies.put("truncated chunk", new Lie(1, (method, path, body) ->
        isChunk(path) ? Arrays.copyOf(body, body.length - 1) : body));
    lies.put("oversized chunk", new Lie(1, (method, path, body) ->
        isChunk(path) ? Arrays.copyOf(body, ChunkIndex.CHUNK_SIZE + 4096) : body));
    lies.put("random chunk", new Lie(1, (method, path, body) -> isChunk(path) ? random(body.length, 7) : body));
    lies.put("empty chunk", new Lie(1, (method, path, body) -> isChunk(path) ? new byte[0] : body));
    lies.put("random chunk index", new Lie(0, (method, path, body) ->
        path.contains("/blocks/") && !isChunk(path) ? random(body.length, 8) : body));
    lies.put("changed manifest", new Lie(0, (method, path, body) ->
        path.startsWith("/v1/manifests/") ? flipped(body) : body));
    int n = 0;
    for (Map.Entry<String, Lie> e : lies.entrySet()) {
      String what = e.getKey();
      VerityNode worker = node("worker" + ++n, ReplicaSettings.DEFAULTS);
      MaliciousProxy liar = proxy();
      liar.response = e.getValue().rewrite();
      Peer liarPeer = fakePeer(liar, Set.of(m.cid()));
      announce(liarPeer, self(worker));

      NodeHarness.Response refused = post(worker, m, null);
      assertProblem(refused, what.equals("changed manifest") ? 404 : 503, "peer");
      assertEquals(e.getValue().honestBlocks(), worker.replicas().blocksFetched(), what);
      assertEquals(List.of(liarPeer.address()), worker.replicas().avoidedPeers(), what);
      if (!what.equals("changed manifest")) {
        assertProblem(NodeHarness.get(worker.uri(), "/v1/blobs/" + m.model()), 503, "incomplete");
      }

      announce(liarPeer, hubPeer(Set.of()), self(worker));
      assertEquals(infer(hub, m, null).get("outputs"), infer(worker, m, null).get("outputs"), what);
      assertEquals(chunks + 1, worker.replicas().blocksFetched(), what + ": every block stored once, none from the lie");
    }
  }

  /** A rewrite of a proxy's answers and the blocks a worker keeps from it before the lie. */
  record Lie(long honestBlocks, MaliciousProxy.Rewrite rewrite) {}

  /** Whether a path asks for a chunk (a block other than the blob's own). */
  private static boolean isChunk(String path) {
    String[] parts = path.split("/");
    return path.contains("/blocks/") && !parts[parts.length - 1].equals(parts[3]);
  }

  @Test
  void aPeerThatNeverAnswersIsGivenUpOnAndTheModelComesFromAnother() throws Exception {
    startHub(ReplicaSettings.DEFAULTS);
    ModelManifest m = publishMlp("mlp", 11, Visibility.PUBLIC);
    VerityNode worker = node("worker", ReplicaSettings.DEFAULTS.withFetchTimeout(java.time.Duration.ofSeconds(1)));
    try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      List<Socket> held = new CopyOnWriteArrayList<>();
      Thread acceptor = Thread.ofVirtual().start(() -> {
        try {
          while (true) {
            held.add(silent.accept()); // accepts, reads nothing, answers nothing
          }
        } catch (IOException e) {
          // closed at the end of the test
        }
      });
      Peer silentPeer = new Peer(Signer.generate().address(), URI.create("http://127.0.0.1:" + silent.getLocalPort()),
          Set.of(NodeRole.HUB), Set.of(m.cid()), 100, 8);
      announce(silentPeer, hubPeer(Set.of()), self(worker));

      assertEquals(infer(hub, m, null).get("outputs"), infer(worker, m, null).get("outputs"));
      assertEquals(ChunkIndex.chunkCountFor(m.modelSize()) + 1, worker.replicas().blocksFetched());
      assertEquals(List.of(), worker.replicas().avoidedPeers(), "silence is no lie: the peer is not marked bad");
      assertFalse(held.isEmpty(), "the silent peer was asked");
      silent.close();
      acceptor.join();
      for (Socket s : held) {
        s.close();
      }
    }
  }

  @Test
  void concurrentRequestsForTheSameModelFetchItOnce() throws Exception {
    startHub(ReplicaSettings.DEFAULTS);
    ModelManifest m = publishMlp("mlp", 4, Visibility.PUBLIC);
    VerityNode worker = node("worker", ReplicaSettings.DEFAULTS);
    MaliciousProxy counter = proxy(); // honest: forwards and records
    announce(fakePeer(counter, Set.of(m.cid())), self(worker));

    int clients = 6;
    CountDownLatch start = new CountDownLatch(1);
    ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
    try {
      List<Future<NodeHarness.Response>> answers = new ArrayList<>();
      for (int i = 0; i < clients; i++) {
        answers.add(pool.submit(() -> {
          start.await();
          return post(worker, m, null);
        }));
      }
      start.countDown();
      for (Future<NodeHarness.Response> a : answers) {
        assertEquals(200, a.get().status(), () -> "every request is served");
      }
    } finally {
      pool.shutdownNow();
    }
    List<String> blockGets = counter.seen.stream().filter(s -> s.contains("/blocks/")).toList();
    assertEquals(ChunkIndex.chunkCountFor(m.modelSize()) + 1, blockGets.size(), () -> "block requests " + blockGets);
    assertEquals(blockGets.size(), Set.copyOf(blockGets).size(), "no block is fetched twice");
    assertEquals(1, counter.seen.stream().filter(s -> s.startsWith("GET /v1/manifests/")).count());
  }

  // ---- the disk budget ---------------------------------------------------------------------

  @Test
  void replicatedModelsStayWithinTheBudgetLeastRecentlyUsedFirstAndOwnModelsStay() throws Exception {
    startHub(ReplicaSettings.DEFAULTS);
    ModelManifest a = publishMlp("model-a", 5, Visibility.PUBLIC);
    ModelManifest b = publishMlp("model-b", 6, Visibility.PUBLIC);
    long budget = a.modelSize() + a.modelSize() / 2; // room for one replicated model, not two
    VerityNode worker = node("worker", ReplicaSettings.DEFAULTS.withCacheBytes(budget));
    announce(hubPeer(Set.of()), self(worker));
    // A model published on the worker itself is the worker's own: never counted, never evicted.
    ModelManifest own;
    try (VerityClient c = NodeHarness.client(worker, owner)) {
      own = c.publish(NodeHarness.write(tmp.resolve("files"), "own.onnx", mlp(7)),
          Publication.of("own-model", V1), ProgressListener.NONE);
    }

    infer(worker, a, null);
    assertEquals(List.of(a.model()), worker.replicas().cache().replicated());
    infer(worker, b, null);
    assertEquals(List.of(b.model()), worker.replicas().cache().replicated(), "a was evicted to make room for b");
    assertTrue(worker.replicas().cache().usedBytes() <= budget);
    assertProblem(NodeHarness.get(worker.uri(), "/v1/blobs/" + a.model()), 503, "incomplete");

    // After a restart (nothing loaded in memory any more) a is fetched again, and b, now the least
    // recently used, makes room for it: the cache's order survives the restart.
    open.remove(worker);
    worker.close();
    worker = node("worker", ReplicaSettings.DEFAULTS.withCacheBytes(budget));
    assertEquals(List.of(b.model()), worker.replicas().cache().replicated());
    JsonNode again = infer(worker, a, null);
    assertEquals(infer(hub, a, null).get("outputs"), again.get("outputs"));
    assertEquals(ChunkIndex.chunkCountFor(a.modelSize()) + 1, worker.replicas().blocksFetched());
    assertEquals(List.of(a.model()), worker.replicas().cache().replicated());
    assertProblem(NodeHarness.get(worker.uri(), "/v1/blobs/" + b.model()), 503, "incomplete");

    assertEquals(200, post(worker, own, null).status(), "the worker's own model is still whole");
    assertFalse(worker.replicas().cache().isReplicated(own.model()));
  }

  // ---- authentication and private models ---------------------------------------------------

  @Test
  void aPrivateModelGoesOnlyToNodesItsOwnerAllowed() throws Exception {
    startHub(ReplicaSettings.DEFAULTS);
    VerityNode allowed = node("allowed", ReplicaSettings.DEFAULTS);
    VerityNode stranger = node("stranger", ReplicaSettings.DEFAULTS);
    ModelManifest m = publishMlp("secret", 8, Visibility.privateTo(allowed.address()));
    announce(hubPeer(Set.of(m.cid())), self(allowed), self(stranger));

    JsonNode fromAllowed = infer(allowed, m, owner);
    assertEquals(infer(hub, m, owner).get("outputs"), fromAllowed.get("outputs"));

    assertProblem(post(stranger, m, owner), 404, "peer");
    assertEquals(0, stranger.replicas().blocksFetched());
    Signer strangerKey = VerityNode.loadOrCreateKey(tmp.resolve("stranger"));
    Cid firstChunk = ChunkIndex.decode(signedGet(hub, owner, "/v1/blobs/" + m.model() + "/blocks/" + m.model()).body())
        .chunks().get(0);
    for (String path : List.of("/v1/blobs/" + m.model() + "/blocks/" + m.model(),
        "/v1/blobs/" + m.model() + "/blocks/" + firstChunk, "/v1/blobs/" + m.model(), "/v1/manifests/" + m.cid())) {
      NodeHarness.Response r = signedGet(hub, strangerKey, path);
      assertProblem(r, 403, "allow-list");
      assertTrue(r.body().length < 4096, "a problem document, not model bytes");
      assertProblem(NodeHarness.get(hub.uri(), path), 401, "private");
    }
  }

  @Test
  void aHubServingPeersOnlyRefusesCallersThatAreNoLiveNode() throws Exception {
    startHub(ReplicaSettings.DEFAULTS.withPeersOnly(true));
    ModelManifest m = publishMlp("mlp", 9, Visibility.PUBLIC);
    VerityNode member = node("member", ReplicaSettings.DEFAULTS);
    Peer hubOnly = hubPeer(Set.of());
    VerityNode outsider = node("outsider", ReplicaSettings.DEFAULTS, () -> List.of(hubOnly));
    // The outsider knows the hub, but the hub does not know the outsider.
    network.set(List.of(hubPeer(Set.of(m.cid())), self(member)));
    assertEquals(infer(hub, m, null).get("outputs"), infer(member, m, null).get("outputs"));

    assertProblem(post(outsider, m, null), 503, "registered live node");
    assertEquals(0, outsider.replicas().blocksFetched());
    String block = "/v1/blobs/" + m.model() + "/blocks/" + m.model();
    assertProblem(signedGet(hub, VerityNode.loadOrCreateKey(tmp.resolve("outsider")), block), 403, "registered live node");
    assertProblem(NodeHarness.get(hub.uri(), block), 401, "nodes of the network");
    assertEquals(200, signedGet(hub, VerityNode.loadOrCreateKey(tmp.resolve("member")), block).status());
  }

  // ---- helpers -------------------------------------------------------------------------------

  /** Who may use a published test model. */
  record Visibility(Optional<List<Address>> allowed) {
    static final Visibility PUBLIC = new Visibility(Optional.empty());

    static Visibility privateTo(Address... addresses) {
      return new Visibility(Optional.of(List.of(addresses)));
    }
  }

  /** A node whose peer directory is the test's network, less itself. */
  private VerityNode node(String name, ReplicaSettings replica) throws Exception {
    AtomicReference<Address> me = new AtomicReference<>();
    VerityNode n = node(name, replica,
        () -> network.get().stream().filter(p -> !p.address().equals(me.get())).toList());
    me.set(n.address());
    return n;
  }

  private VerityNode node(String name, ReplicaSettings replica, PeerDirectory peers) throws Exception {
    VerityNode n = VerityNode.start(NodeConfig.defaults().withDataDir(tmp.resolve(name)).withPort(0)
        .withReplica(replica), peers);
    open.add(n);
    return n;
  }

  private MaliciousProxy proxy() throws Exception {
    MaliciousProxy p = new MaliciousProxy(hub.uri());
    open.add(p);
    return p;
  }

  private void announce(Peer... peers) {
    network.set(List.of(peers));
  }

  private Peer hubPeer(Set<Cid> models) {
    return new Peer(hub.address(), hub.uri(), Set.of(NodeRole.HUB), models, 100, 8);
  }

  private static Peer self(VerityNode n) {
    return new Peer(n.address(), n.uri(), Set.of(NodeRole.WORKER), Set.of(), 100, 8);
  }

  /** A proxy announced as a peer of its own (with an address no node has). */
  private static Peer fakePeer(MaliciousProxy p, Set<Cid> models) {
    return new Peer(Signer.generate().address(), p.uri(), Set.of(NodeRole.HUB, NodeRole.WORKER), models, 100, 8);
  }

  private ModelManifest publishMlp(String repo, int seed, Visibility visibility) throws Exception {
    Path file = NodeHarness.write(tmp.resolve("files"), repo + ".onnx", mlp(seed));
    Publication p = Publication.of(repo, V1);
    if (visibility.allowed().isPresent()) {
      p = p.privateTo(visibility.allowed().get());
    }
    return ownerClient.publish(file, p, ProgressListener.NONE);
  }

  /** y = relu(x · w1) · w2 with x float32 [1, 32]: a small network with megabytes of weights. */
  static byte[] mlp(int seed) {
    OnnxModel m = OnnxModel.builder()
        .graphName("mlp")
        .input("x", ElementType.FLOAT, Dim.of(1), Dim.of(FEATURES))
        .output("y", ElementType.FLOAT, Dim.of(1), Dim.of(8))
        .initializer("w1", new long[] {FEATURES, HIDDEN}, weights(FEATURES * HIDDEN, seed))
        .initializer("w2", new long[] {HIDDEN, 8}, weights(HIDDEN * 8, seed + 1000))
        .node("MatMul", List.of("x", "w1"), List.of("h"))
        .node("Relu", List.of("h"), List.of("r"))
        .node("MatMul", List.of("r", "w2"), List.of("y"))
        .build();
    return OnnxWriter.write(m);
  }

  private static float[] weights(int n, int seed) {
    float[] w = new float[n];
    int state = seed * 7919 + 1;
    for (int i = 0; i < n; i++) {
      state = state * 1664525 + 1013904223;
      w[i] = ((state >>> 8) / 16777216f - 0.5f) / 16f;
    }
    return w;
  }

  private static NamedTensors inputs(int seed) {
    float[] x = new float[FEATURES];
    for (int i = 0; i < x.length; i++) {
      x[i] = ((i * 31 + seed) % 17) / 4f - 2f;
    }
    return NamedTensors.of("x", Tensor.ofFloats(new long[] {1, FEATURES}, x));
  }

  /** POST /v1/manifests/{cid}/infer, signed by {@code signer} when given. */
  private static NodeHarness.Response post(VerityNode n, ModelManifest m, Signer signer) {
    String path = "/v1/manifests/" + m.cid() + "/infer";
    byte[] body = NodeHarness.inferJson(inputs(1));
    return signer == null
        ? NodeHarness.post(n.uri(), path, "application/json", body)
        : NodeHarness.signedPost(n.uri(), signer, path, "application/json", body);
  }

  private static JsonNode infer(VerityNode n, ModelManifest m, Signer signer) {
    NodeHarness.Response r = post(n, m, signer);
    assertEquals(200, r.status(), r::text);
    return r.json();
  }

  private static NodeHarness.Response signedGet(VerityNode n, Signer key, String path) {
    HttpRequest.Builder b = NodeHarness.request(n.uri(), path)
        .header("Authorization", NodeHarness.authorization(key, "GET", path, new byte[0], System.currentTimeMillis()))
        .GET();
    return NodeHarness.send(b.build());
  }

  private static byte[] flipped(byte[] body) {
    byte[] b = body.clone();
    if (b.length > 0) {
      b[b.length / 2] ^= 0x01;
    }
    return b;
  }

  private static byte[] random(int n, int seed) {
    byte[] b = new byte[n];
    new java.util.Random(seed).nextBytes(b);
    return b;
  }
}
