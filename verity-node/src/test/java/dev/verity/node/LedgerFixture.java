package dev.verity.node;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.verity.core.Cid;
import dev.verity.core.Hash;
import dev.verity.core.crypto.Address;
import dev.verity.core.crypto.Signer;
import dev.verity.core.io.AtomicFiles;
import dev.verity.ledger.Action;
import dev.verity.ledger.GenesisConfig;
import dev.verity.ledger.SignedTransaction;
import dev.verity.ledger.Transaction;
import dev.verity.onnx.Dim;
import dev.verity.onnx.ElementType;
import dev.verity.onnx.ModelSignatures;
import dev.verity.onnx.OnnxModel;
import dev.verity.onnx.OnnxModelInfo;
import dev.verity.onnx.OnnxReader;
import dev.verity.onnx.OnnxWriter;
import dev.verity.protocol.ModelManifest;
import dev.verity.protocol.RequestSignature;
import dev.verity.protocol.VerificationMode;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.TensorJson;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A real node with an embedded ledger, started from a test genesis that funds a model owner and two
 * clients, and the HTTP calls the ledger tests make against it: transactions, reads, publishing,
 * signed inference. Waiting on the ledger is bounded polling with a deadline.
 */
final class LedgerFixture implements AutoCloseable {
  static final ObjectMapper JSON = new ObjectMapper();
  static final Duration DEADLINE = Duration.ofSeconds(30);
  static final long CLIENT_FUNDS = 100_000;
  static final long OWNER_FUNDS = 1_000;
  static final long NODE_FUNDS = 1_000_000;

  final Path dir;
  final Signer nodeKey;
  final Signer owner = Signer.generate();
  final Signer client = Signer.generate();
  final Signer otherClient = Signer.generate();
  final Address treasury = Signer.generate().address();
  final GenesisConfig genesis;
  final NodeConfig config;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  VerityNode node;

  record Response(int status, JsonNode json, byte[] body) {
    String detail() {
      return json == null ? "" : json.path("detail").asText();
    }

    String type() {
      return json == null ? "" : json.path("type").asText();
    }
  }

  private LedgerFixture(Path dir, long operatorFee, int receiptBatch, Duration batchDelay, Optional<LedgerSettings> mode)
      throws IOException {
    this.dir = dir;
    this.nodeKey = VerityNode.loadOrCreateKey(dir.resolve("node"));
    this.genesis = GenesisConfig.builder("verity-test")
        .sequencer(nodeKey.publicKey())
        .authority(nodeKey.publicKey())
        .treasury(treasury)
        .minFee(0)
        .allocate(nodeKey.address(), NODE_FUNDS)
        .allocate(owner.address(), OWNER_FUNDS)
        .allocate(client.address(), CLIENT_FUNDS)
        .allocate(otherClient.address(), CLIENT_FUNDS)
        .build();
    Path genesisFile = dir.resolve("genesis.cbor");
    AtomicFiles.write(genesisFile, genesis.encode());
    this.config = NodeConfig.defaults().withDataDir(dir.resolve("node")).withPort(0)
        .withLedger(mode.orElse(LedgerSettings.embedded(Optional.of(genesisFile)).withOperatorFee(operatorFee)
            .withReceiptBatch(receiptBatch, batchDelay)));
  }

  static LedgerFixture start(Path dir, long operatorFee, int receiptBatch, Duration batchDelay) throws IOException {
    return start(dir, operatorFee, receiptBatch, batchDelay, null);
  }

  /** As above, with other ledger settings than the embedded ledger on the test genesis (null: that ledger). */
  static LedgerFixture start(Path dir, long operatorFee, int receiptBatch, Duration batchDelay, LedgerSettings settings)
      throws IOException {
    LedgerFixture f = new LedgerFixture(dir, operatorFee, receiptBatch, batchDelay, Optional.ofNullable(settings));
    f.node = VerityNode.start(f.config);
    return f;
  }

  void restart() throws IOException {
    node.close();
    node = VerityNode.start(config);
  }

  @Override
  public void close() throws IOException {
    node.close();
  }

  // ---- HTTP ----

  Response get(String path) throws IOException {
    return send(HttpRequest.newBuilder(uri(path)).GET().build());
  }

  Response post(String path, String contentType, byte[] body, Optional<Signer> signer) throws IOException {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).header("Content-Type", contentType)
        .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    signer.ifPresent(s -> b.header("Authorization",
        RequestSignature.sign(s, "POST", path, System.currentTimeMillis(), Hash.of(body)).toHeader()));
    return send(b.build());
  }

  private URI uri(String path) {
    return node.uri().resolve(path);
  }

  private Response send(HttpRequest req) throws IOException {
    try {
      HttpResponse<byte[]> r = http.send(req, HttpResponse.BodyHandlers.ofByteArray());
      String type = r.headers().firstValue("Content-Type").orElse("");
      JsonNode json = type.contains("json") ? JSON.readTree(r.body()) : null;
      return new Response(r.statusCode(), json, r.body());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
  }

  Response ok(Response r) {
    assertEquals(200, r.status(), () -> new String(r.body(), StandardCharsets.UTF_8));
    return r;
  }

  // ---- ledger ----

  SignedTransaction sign(Signer s, Action a) throws IOException {
    long nonce = ok(get("/v1/ledger/accounts/" + s.address())).json().path("nonce").asLong();
    return new Transaction(genesis.chainId(), s.publicKey(), nonce, genesis.minFee(), a).sign(s);
  }

  Response submit(SignedTransaction tx) throws IOException {
    return post("/v1/ledger/transactions", "application/cbor", tx.encode(), Optional.empty());
  }

  Response submit(Signer s, Action a) throws IOException {
    return submit(sign(s, a));
  }

  Hash openJob(Signer c, Cid manifest, Optional<Address> worker, long maxFee) throws IOException {
    Response r = ok(submit(c, new Action.OpenJob(manifest, worker, 1, maxFee)));
    return Hash.fromHex(r.json().path("created").asText());
  }

  long balance(Address a) throws IOException {
    return ok(get("/v1/ledger/accounts/" + a)).json().path("balance").asLong();
  }

  JsonNode job(Hash id) throws IOException {
    return ok(get("/v1/ledger/jobs/" + id.toHex())).json();
  }

  /** Polls until {@code probe} holds for the response of {@code path}, failing after the deadline. */
  Response await(String path, Predicate<Response> probe, String what) throws IOException {
    long end = System.nanoTime() + DEADLINE.toNanos();
    Response last;
    do {
      last = get(path);
      if (probe.test(last)) {
        return last;
      }
      try {
        TimeUnit.MILLISECONDS.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException(e);
      }
    } while (System.nanoTime() - end < 0);
    throw new AssertionError("gave up waiting for " + what + " after " + DEADLINE.toSeconds() + " s; last answer "
        + last.status() + " " + new String(last.body(), StandardCharsets.UTF_8));
  }

  JsonNode awaitJob(Hash id, String status) throws IOException {
    return await("/v1/ledger/jobs/" + id.toHex(), r -> r.status() == 200 && r.json().path("status").asText().equals(status),
        "job " + id + " to be " + status).json();
  }

  /** Waits until the ledger lists this node as a worker for {@code manifest}. */
  void awaitWorker(Cid manifest) throws IOException {
    await("/v1/ledger/nodes/" + nodeKey.address(), r -> {
      if (r.status() != 200) {
        return false;
      }
      for (JsonNode m : r.json().path("models")) {
        if (m.asText().equals(manifest.toString())) {
          return true;
        }
      }
      return false;
    }, "the node to register as a worker for " + manifest);
  }

  // ---- models and inference ----

  /** Publishes an ONNX model as the owner, and registers it on the ledger at {@code royalty}. */
  ModelManifest publishAndRegister(byte[] onnx, String repo, long royalty) throws IOException {
    ModelManifest m = publish(onnx, repo, royalty);
    ok(submit(owner, new Action.RegisterModel(m.cid(), royalty)));
    awaitWorker(m.cid());
    return m;
  }

  ModelManifest publish(byte[] onnx, String repo, long price) throws IOException {
    Response up = post("/v1/blobs", "application/octet-stream", onnx, Optional.of(owner));
    assertEquals(201, up.status(), () -> new String(up.body(), StandardCharsets.UTF_8));
    Cid blob = Cid.parse(up.json().path("cid").asText());
    OnnxModelInfo info = OnnxReader.readInfo(onnx);
    ModelManifest m = ModelManifest.builder()
        .owner(owner.publicKey())
        .repository(repo)
        .version("1.0.0")
        .opsets(ModelSignatures.opsets(info))
        .inputs(ModelSignatures.inputs(info))
        .outputs(ModelSignatures.outputs(info))
        .task("test")
        .price(price)
        .modes(EnumSet.of(VerificationMode.RECEIPT))
        .model(blob, onnx.length)
        .sign(owner);
    String path = "/v1/models/" + owner.address() + "/" + repo + "/versions";
    Response r = post(path, "application/cbor", m.encode(), Optional.of(owner));
    assertEquals(201, r.status(), () -> new String(r.body(), StandardCharsets.UTF_8));
    return m;
  }

  Response infer(ModelManifest m, NamedTensors inputs, Optional<Hash> job, Optional<Signer> signer) throws IOException {
    ObjectNode body = JSON.createObjectNode();
    body.set("inputs", JSON.readTree(TensorJson.toBytes(inputs)));
    job.ifPresent(j -> body.put("job", j.toHex()));
    return post("/v1/manifests/" + m.cid() + "/infer", "application/json", JSON.writeValueAsBytes(body), signer);
  }

  static NamedTensors outputs(Response r) {
    return TensorJson.read(r.json().path("outputs").toString().getBytes(StandardCharsets.UTF_8),
        dev.verity.protocol.tensor.TensorLimits.DEFAULT);
  }

  static dev.verity.protocol.InferenceReceipt receipt(Response r) {
    return dev.verity.protocol.InferenceReceipt.decode(java.util.Base64.getDecoder().decode(r.json().path("receipt").asText()));
  }

  // ---- test models, written with verity-onnx ----

  /** y = 2x for x of shape [N, 4]. */
  static byte[] doublingModel() {
    return OnnxWriter.write(OnnxModel.builder()
        .input("x", ElementType.FLOAT, Dim.symbolic("N"), Dim.of(4))
        .output("y", ElementType.FLOAT, Dim.symbolic("N"), Dim.of(4))
        .initializer("two", new long[] {}, new float[] {2f})
        .node("Mul", List.of("x", "two"), List.of("y"))
        .build());
  }

  /**
   * y = reshape(x, shape) for x of 4 floats: runs for shape [4] (or [2, 2] read as [4]), and fails
   * in the engine for any shape that does not hold 4 elements, e.g. [5].
   */
  static byte[] reshapingModel() {
    return OnnxWriter.write(OnnxModel.builder()
        .input("x", ElementType.FLOAT, Dim.of(4))
        .input("shape", ElementType.INT64, Dim.of(1))
        .output("y", ElementType.FLOAT, Dim.symbolic("M"))
        .node("Reshape", List.of("x", "shape"), List.of("y"))
        .build());
  }

  static NamedTensors doublingInputs(float v) {
    return NamedTensors.of("x", dev.verity.protocol.tensor.Tensor.ofFloats(new long[] {1, 4}, new float[] {v, 1, 2, 3}));
  }

  static NamedTensors reshapingInputs(long size) {
    return NamedTensors.of(java.util.Map.of(
        "x", dev.verity.protocol.tensor.Tensor.ofFloats(new long[] {4}, new float[] {1, 2, 3, 4}),
        "shape", dev.verity.protocol.tensor.Tensor.ofLongs(new long[] {1}, new long[] {size})));
  }
}
