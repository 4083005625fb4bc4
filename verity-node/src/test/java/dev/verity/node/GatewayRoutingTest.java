package dev.verity.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.verity.core.crypto.PublicKey;
import dev.verity.core.crypto.Signer;
import dev.verity.models.BuiltinModels;
import dev.verity.models.ExampleModel;
import dev.verity.node.GatewayHarness.MutableDirectory;
import dev.verity.node.GatewayHarness.SilentWorker;
import dev.verity.protocol.InferenceReceipt;
import dev.verity.protocol.ModelManifest;
import dev.verity.protocol.VerificationMode;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.sdk.InferenceResult;
import dev.verity.sdk.ModelRef;
import dev.verity.sdk.ProgressListener;
import dev.verity.sdk.Publication;
import dev.verity.sdk.VerityApiException;
import dev.verity.sdk.VerityClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A gateway in front of three workers, all in this JVM over real HTTP (free inference, no ledger;
 * peers from a fixed directory): routing by stake and load, failover, false answers, backpressure
 * and the SDK's retries.
 */
class GatewayRoutingTest {
  @TempDir static Path dir;
  static final Signer owner = Signer.generate();
  static final ExampleModel model = BuiltinModels.all().get(0);
  static final List<VerityNode> workers = new ArrayList<>();
  static ModelManifest manifest;
  static Set<PublicKey> workerKeys;

  @BeforeAll
  static void start() throws Exception {
    Path file = NodeHarness.write(dir.resolve("models"), model.name() + ".onnx", model.onnx());
    for (int i = 0; i < 3; i++) {
      VerityNode w = GatewayHarness.worker(dir.resolve("w" + i), 4);
      workers.add(w);
      try (VerityClient c = VerityClient.builder(w.uri()).signer(owner).build()) {
        if (manifest == null) {
          manifest = c.publish(file, Publication.of(model.name(), "1.0.0"), ProgressListener.NONE);
        } else {
          c.uploadBlob(file, ProgressListener.NONE);
          c.publishManifest(manifest);
        }
      }
    }
    workerKeys = Set.of(workers.get(0).publicKey(), workers.get(1).publicKey(), workers.get(2).publicKey());
  }

  @AfterAll
  static void stop() throws IOException {
    for (VerityNode w : workers) {
      w.close();
    }
  }

  static NamedTensors inputs(int i) {
    return NodeHarness.sampleInputs(model, i % model.samples().size());
  }

  static MutableDirectory directory(long... stakes) {
    List<dev.verity.node.net.Peer> peers = new ArrayList<>();
    for (int i = 0; i < stakes.length; i++) {
      peers.add(GatewayHarness.peer(workers.get(i), stakes[i], 4, manifest.cid()));
    }
    return new MutableDirectory(peers);
  }

  static VerityClient client(VerityNode gateway) {
    return VerityClient.builder(gateway.uri()).trustNodes(workerKeys).build();
  }

  static String path() {
    return NodeHarness.versionPath(manifest) + "/infer";
  }

  @Test
  void forwardsToAWorkerAndHandsOverItsReceiptUnderTheClientsRequestId() throws Exception {
    try (VerityNode gateway = GatewayHarness.gateway(dir.resolve("g-plain"), directory(1, 1, 1), GatewayHarness.FAST);
        VerityClient c = client(gateway)) {
      NodeHarness.Response r = NodeHarness.send(NodeHarness.request(gateway.uri(), path())
          .header("Content-Type", "application/json").header("X-Request-Id", "client-chosen-1")
          .POST(HttpRequest.BodyPublishers.ofByteArray(NodeHarness.inferJson(inputs(0)))).build());
      assertEquals(200, r.status(), r.text());
      InferenceReceipt receipt = InferenceReceipt.decode(Base64.getDecoder().decode(r.json().path("receipt").asText()));
      assertEquals("client-chosen-1", receipt.requestId());
      assertTrue(workerKeys.contains(receipt.node()), "signed by a worker");
      assertEquals(manifest.cid(), receipt.manifest());
      // the SDK, pinned to the workers' keys, checks the receipt; the gateway serves the manifest
      InferenceResult res = c.infer(ModelRef.ofManifest(manifest.cid()), inputs(1));
      assertTrue(workerKeys.contains(res.receipt().node()));
      assertEquals(NodeHarness.runDirectly(NodeHarness.write(dir.resolve("m"), "m.onnx", model.onnx()),
          workers.get(0).config(), inputs(1)).cid(), res.outputs().cid());
    }
  }

  @Test
  void spreadsIdleWorkByStake() throws Exception {
    Map<PublicKey, Integer> counts = new HashMap<>();
    try (VerityNode gateway = GatewayHarness.gateway(dir.resolve("g-stake"), directory(1, 1, 6), GatewayHarness.FAST);
        VerityClient c = client(gateway)) {
      for (int i = 0; i < 80; i++) {
        InferenceResult r = c.infer(ModelRef.ofManifest(manifest.cid()), inputs(i));
        counts.merge(r.receipt().node(), 1, Integer::sum);
      }
    }
    int heavy = counts.getOrDefault(workers.get(2).publicKey(), 0);
    int light0 = counts.getOrDefault(workers.get(0).publicKey(), 0);
    int light1 = counts.getOrDefault(workers.get(1).publicKey(), 0);
    assertEquals(80, heavy + light0 + light1);
    assertTrue(heavy > 2 * light0 && heavy > 2 * light1, "6:1:1 stake gave " + counts);
    assertTrue(light0 > 0 && light1 > 0, "every worker gets some work: " + counts);
  }

  @Test
  void sendsWorkPastABusyWorkerToAnIdleOneWhateverTheStake() throws Exception {
    try (SilentWorker busy = new SilentWorker()) {
      Signer busyKey = Signer.generate();
      MutableDirectory d = new MutableDirectory(List.of(
          GatewayHarness.peer(busyKey.address(), busy.uri(), 1_000_000, 4, manifest.cid()),
          GatewayHarness.peer(workers.get(0), 1, 4, manifest.cid())));
      try (VerityNode gateway = GatewayHarness.gateway(dir.resolve("g-load"), d,
          GatewayHarness.FAST.withAttemptTimeout(Duration.ofSeconds(60)).withDeadline(Duration.ofSeconds(60)));
          VerityClient c = client(gateway)) {
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
        // the idle high-stake worker gets the first request and holds it (it answers nothing yet)
        Future<NodeHarness.Response> held = pool.submit(() -> NodeHarness.post(gateway.uri(), path(),
            "application/json", NodeHarness.inferJson(inputs(0))));
        RemoteLedgerTest.await("the high-stake worker holds a request", () -> busy.received.get() == 1);
        for (int i = 0; i < 10; i++) {
          InferenceResult r = c.infer(ModelRef.ofManifest(manifest.cid()), inputs(i));
          assertEquals(workers.get(0).publicKey(), r.receipt().node(), "request " + i + " went to the busier worker");
        }
        busy.release();
        // its request then fails there and completes on the other worker, under the same request id
        assertEquals(200, held.get(60, TimeUnit.SECONDS).status());
        pool.close();
      }
    }
  }

  @Test
  void completesEveryRequestWhenAWorkerStopsMidLoad() throws Exception {
    VerityNode victim = GatewayHarness.worker(dir.resolve("victim"), 4);
    Path file = NodeHarness.write(dir.resolve("models"), model.name() + ".onnx", model.onnx());
    try (VerityClient c = VerityClient.builder(victim.uri()).signer(owner).build()) {
      c.uploadBlob(file, ProgressListener.NONE);
      c.publishManifest(manifest);
    }
    MutableDirectory d = directory(1, 1);
    List<dev.verity.node.net.Peer> withVictim = new ArrayList<>(d.live());
    withVictim.add(GatewayHarness.peer(victim, 8, 4, manifest.cid()));
    d.set(withVictim);
    Set<PublicKey> keys = new java.util.HashSet<>(workerKeys);
    keys.add(victim.publicKey());
    AtomicInteger done = new AtomicInteger();
    List<InferenceResult> results = new CopyOnWriteArrayList<>();
    try (VerityNode gateway = GatewayHarness.gateway(dir.resolve("g-failover"), d, GatewayHarness.FAST);
        VerityClient c = VerityClient.builder(gateway.uri()).trustNodes(keys).build()) {
      List<Future<?>> clients = new ArrayList<>();
      try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
        for (int t = 0; t < 6; t++) {
          int thread = t;
          clients.add(pool.submit(() -> {
            for (int i = 0; i < 20; i++) {
              results.add(c.infer(ModelRef.ofManifest(manifest.cid()), inputs(thread * 20 + i)));
              done.incrementAndGet();
            }
            return null;
          }));
        }
        RemoteLedgerTest.await("some requests complete", () -> done.get() >= 30);
        victim.close(); // stopped under load; the directory still lists it, as a ledger would until liveness ends
        for (Future<?> f : clients) {
          f.get(120, TimeUnit.SECONDS); // every request completes, none fails
        }
      }
    }
    assertEquals(120, results.size());
    assertTrue(results.stream().allMatch(r -> keys.contains(r.receipt().node())));
    long fromOthers = results.stream().filter(r -> !r.receipt().node().equals(victim.publicKey())).count();
    assertTrue(fromOthers >= 70, "after the stop, requests went to the other workers: " + fromOthers);
  }

  /** A front that lies about worker 0: every answer passes through {@code rewrite}. */
  static MaliciousProxy lyingWorker(MaliciousProxy.Rewrite rewrite) throws IOException {
    MaliciousProxy p = new MaliciousProxy(workers.get(0).uri());
    p.response = (method, path, body) -> path.endsWith("/infer") ? rewrite.apply(method, path, body) : body;
    return p;
  }

  void assertCompletesElsewhere(MaliciousProxy liar, String name) throws Exception {
    assertCompletesElsewhere(liar, name, NodeConfig.defaults());
  }

  void assertCompletesElsewhere(MaliciousProxy liar, String name, NodeConfig base) throws Exception {
    MutableDirectory d = new MutableDirectory(List.of(
        GatewayHarness.peer(workers.get(0).address(), liar.uri(), 1_000_000, 4, manifest.cid()),
        GatewayHarness.peer(workers.get(1), 1, 4, manifest.cid())));
    try (VerityNode gateway = GatewayHarness.gateway(base, dir.resolve("g-" + name), d, GatewayHarness.FAST);
        VerityClient c = client(gateway)) {
      for (int i = 0; i < 5; i++) {
        InferenceResult r = c.infer(ModelRef.ofManifest(manifest.cid()), inputs(i));
        assertEquals(workers.get(1).publicKey(), r.receipt().node(), "request " + i + " completed on the honest worker");
      }
      long lies = liar.seen.stream().filter(s -> s.startsWith("POST")).count();
      assertEquals(1, lies, "the lying worker is caught once and then left out");
    }
  }

  @Test
  void catchesAWorkerReturningTamperedOutputsAndCompletesElsewhere() throws Exception {
    try (MaliciousProxy liar = lyingWorker((m, p, body) -> {
      ObjectNode n = (ObjectNode) NodeHarness.JSON.readTree(body);
      JsonNode out = n.path("outputs");
      String name = out.fieldNames().next();
      ObjectNode t = (ObjectNode) out.path(name);
      com.fasterxml.jackson.databind.node.ArrayNode data = (com.fasterxml.jackson.databind.node.ArrayNode) t.path("data");
      data.set(0, data.get(0).asDouble() + 0.25);
      return NodeHarness.JSON.writeValueAsBytes(n);
    })) {
      assertCompletesElsewhere(liar, "tampered");
    }
  }

  @Test
  void catchesAWorkerReturningAForgedReceiptAndCompletesElsewhere() throws Exception {
    Signer forger = Signer.generate();
    try (MaliciousProxy liar = lyingWorker((m, p, body) -> {
      ObjectNode n = (ObjectNode) NodeHarness.JSON.readTree(body);
      InferenceReceipt real = InferenceReceipt.decode(Base64.getDecoder().decode(n.path("receipt").asText()));
      // a well-formed receipt over the same outputs, signed by a key that is not the worker's
      InferenceReceipt forged = InferenceReceipt.sign(forger, real.requestId(), manifest, real.inputs(), real.outputs(),
          real.mode(), real.evidence(), real.provenance(), real.startedAtMillis(), real.finishedAtMillis(), real.job());
      n.put("receipt", Base64.getEncoder().encodeToString(forged.encode()));
      return NodeHarness.JSON.writeValueAsBytes(n);
    })) {
      assertCompletesElsewhere(liar, "forged");
    }
  }

  @Test
  void catchesAWorkerAnsweringRandomBytesAndCompletesElsewhere() throws Exception {
    java.util.Random random = new java.util.Random(5);
    try (MaliciousProxy liar = lyingWorker((m, p, body) -> {
      byte[] junk = new byte[body.length];
      random.nextBytes(junk);
      return junk;
    })) {
      assertCompletesElsewhere(liar, "random");
    }
  }

  @Test
  void catchesAWorkerAnsweringTruncatedJsonAndCompletesElsewhere() throws Exception {
    try (MaliciousProxy liar = lyingWorker((m, p, body) -> java.util.Arrays.copyOf(body, body.length / 2))) {
      assertCompletesElsewhere(liar, "truncated");
    }
  }

  @Test
  void catchesAWorkerAnsweringAnOversizedBodyAndCompletesElsewhere() throws Exception {
    // beyond what this gateway takes from a worker: four times its max_request_bytes of 64 KiB
    NodeConfig small = NodeConfig.load(Optional.empty(), Map.of("VERITY_MAX_REQUEST_BYTES", "65536"));
    byte[] huge = new byte[4 * 65536 + 1024];
    java.util.Arrays.fill(huge, (byte) ' ');
    try (MaliciousProxy liar = lyingWorker((m, p, body) -> huge)) {
      assertCompletesElsewhere(liar, "oversized", small);
    }
  }

  @Test
  void answers503WithRetryAfterWhenEveryWorkerIsSaturatedAnd429WhenTheGatewayIsFull() throws Exception {
    try (SilentWorker slow = new SilentWorker()) {
      MutableDirectory d = new MutableDirectory(List.of(
          GatewayHarness.peer(Signer.generate().address(), slow.uri(), 1, 1, manifest.cid()),
          new dev.verity.node.net.Peer(workers.get(0).address(), workers.get(0).uri(),
              Set.of(dev.verity.ledger.NodeRole.HUB), Set.of(manifest.cid()), 1, 4))); // serves the manifest only
      var patient = GatewayHarness.FAST.withAttemptTimeout(Duration.ofSeconds(60)).withDeadline(Duration.ofSeconds(60))
          .withQueueWait(Duration.ofMillis(50));
      try (VerityNode saturated = GatewayHarness.gateway(dir.resolve("g-sat"), d, patient.withMaxOutstanding(8));
          VerityNode full = GatewayHarness.gateway(dir.resolve("g-full"), d, patient.withMaxOutstanding(1))) {
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
        List<Future<NodeHarness.Response>> held = new ArrayList<>();
        for (VerityNode g : List.of(saturated, full)) {
          held.add(pool.submit(() -> NodeHarness.post(g.uri(), path(), "application/json", NodeHarness.inferJson(inputs(0)))));
        }
        RemoteLedgerTest.await("the worker holds one request of each gateway", () -> slow.received.get() == 2);

        NodeHarness.Response busy = NodeHarness.post(saturated.uri(), path(), "application/json",
            NodeHarness.inferJson(inputs(1)));
        JsonNode p = NodeHarness.assertProblem(busy, 503, "at capacity");
        assertEquals("/problems/overloaded", p.path("type").asText());
        assertEquals("1", busy.header("Retry-After"));

        NodeHarness.Response refused = NodeHarness.post(full.uri(), path(), "application/json",
            NodeHarness.inferJson(inputs(1)));
        JsonNode q = NodeHarness.assertProblem(refused, 429, "gateway.max_outstanding");
        assertEquals("/problems/gateway-busy", q.path("type").asText());
        assertEquals("1", refused.header("Retry-After"));

        slow.release();
        for (Future<NodeHarness.Response> h : held) {
          NodeHarness.Response r = h.get(60, TimeUnit.SECONDS);
          NodeHarness.assertProblem(r, 503, "failed on 1 worker");
          assertEquals("1", r.header("Retry-After"), "a request whose only worker failed is retryable");
        }
        pool.close();
      }
    }
  }

  /** A front that answers the first {@code refusals} inference requests 503 with Retry-After: 0. */
  static final class RefusingFront implements AutoCloseable {
    final HttpServer server;
    final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    final List<String> requestIds = new CopyOnWriteArrayList<>();
    final List<String> bodies = new CopyOnWriteArrayList<>();
    final AtomicInteger refusals;
    final URI target;

    RefusingFront(URI target, int refusals) throws IOException {
      this.target = target;
      this.refusals = new AtomicInteger(refusals);
      server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
      server.setExecutor(executor);
      server.createContext("/", this::serve);
      server.start();
    }

    URI uri() {
      return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    private void serve(HttpExchange ex) throws IOException {
      try (ex) {
        byte[] body;
        try (InputStream in = ex.getRequestBody()) {
          body = in.readAllBytes();
        }
        String path = ex.getRequestURI().toString();
        if (ex.getRequestMethod().equals("POST") && path.endsWith("/infer")) {
          requestIds.add(ex.getRequestHeaders().getFirst("X-Request-Id"));
          bodies.add(new String(body, StandardCharsets.UTF_8));
          if (refusals.getAndDecrement() > 0) {
            byte[] problem = ("{\"type\":\"/problems/overloaded\",\"title\":\"Busy\",\"status\":503,"
                + "\"detail\":\"busy\"}").getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "application/problem+json");
            ex.getResponseHeaders().set("Retry-After", "0");
            ex.sendResponseHeaders(503, problem.length);
            try (OutputStream o = ex.getResponseBody()) {
              o.write(problem);
            }
            return;
          }
        }
        HttpRequest.Builder b = HttpRequest.newBuilder(target.resolve(path)).method(ex.getRequestMethod(),
            body.length == 0 ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        for (String h : List.of("Content-Type", "X-Request-Id", "Accept", "Authorization")) {
          String v = ex.getRequestHeaders().getFirst(h);
          if (v != null) {
            b.header(h, v);
          }
        }
        HttpResponse<byte[]> r;
        try {
          r = NodeHarness.HTTP.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException(e);
        }
        r.headers().firstValue("Content-Type").ifPresent(v -> ex.getResponseHeaders().set("Content-Type", v));
        ex.sendResponseHeaders(r.statusCode(), r.body().length == 0 ? -1 : r.body().length);
        try (OutputStream o = ex.getResponseBody()) {
          o.write(r.body());
        }
      }
    }

    @Override
    public void close() {
      server.stop(0);
      executor.shutdownNow();
    }
  }

  @Test
  void clientHonoursRetryAfterAndSendsTheSameRequestAgain() throws Exception {
    try (VerityNode gateway = GatewayHarness.gateway(dir.resolve("g-retry"), directory(1, 1, 1), GatewayHarness.FAST);
        RefusingFront front = new RefusingFront(gateway.uri(), 2);
        VerityClient c = VerityClient.builder(front.uri()).trustNodes(workerKeys).build()) {
      InferenceResult r = c.infer(ModelRef.ofManifest(manifest.cid()), inputs(0), VerificationMode.RECEIPT, "req-42");
      assertEquals("req-42", r.receipt().requestId());
      assertEquals(List.of("req-42", "req-42", "req-42"), front.requestIds);
      assertEquals(1, front.bodies.stream().distinct().count(), "the same body every time");
    }
  }

  @Test
  void clientGivesUpAfterItsRetriesWithARetryableError() throws Exception {
    try (VerityNode gateway = GatewayHarness.gateway(dir.resolve("g-giveup"), directory(1, 1, 1), GatewayHarness.FAST);
        RefusingFront front = new RefusingFront(gateway.uri(), 100);
        VerityClient c = VerityClient.builder(front.uri()).trustNodes(workerKeys).retries(2).build()) {
      VerityApiException e = assertThrows(VerityApiException.class,
          () -> c.infer(ModelRef.ofManifest(manifest.cid()), inputs(0), VerificationMode.RECEIPT, "req-43"));
      assertEquals(503, e.status());
      assertTrue(e.retryable());
      assertEquals(Duration.ZERO, e.retryAfter().orElseThrow());
      assertEquals(3, front.requestIds.size(), "one request and two retries");
    }
  }

  @Test
  void refusalsEveryWorkerWouldGiveReachTheClientUnchanged() throws Exception {
    try (VerityNode gateway = GatewayHarness.gateway(dir.resolve("g-refuse"), directory(1, 1, 1), GatewayHarness.FAST)) {
      NodeHarness.Response r = NodeHarness.post(gateway.uri(), path(), "application/json",
          "{\"inputs\":{\"nope\":{\"type\":\"float32\",\"shape\":[1],\"data\":[1]}}}".getBytes(StandardCharsets.UTF_8));
      NodeHarness.assertProblem(r, 400, "input 'features' is missing");
      assertEquals(null, r.header("Retry-After"));
    }
  }
}
