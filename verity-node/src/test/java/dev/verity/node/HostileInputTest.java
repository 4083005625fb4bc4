package dev.verity.node;

import static dev.verity.node.NodeHarness.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.verity.core.Cid;
import dev.verity.core.DecodingException;
import dev.verity.core.crypto.Signer;
import dev.verity.models.BuiltinModels;
import dev.verity.models.ExampleModel;
import dev.verity.onnx.ModelSignatures;
import dev.verity.onnx.OnnxModelInfo;
import dev.verity.onnx.OnnxReader;
import dev.verity.protocol.ModelManifest;
import dev.verity.protocol.VerificationMode;
import dev.verity.protocol.YankNotice;
import dev.verity.protocol.tensor.Dim;
import dev.verity.protocol.tensor.ElementType;
import dev.verity.protocol.tensor.TensorSpec;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import dev.verity.sdk.InferenceResult;
import dev.verity.sdk.ModelRef;
import dev.verity.sdk.ProgressListener;
import dev.verity.sdk.Publication;
import dev.verity.sdk.VerityApiException;
import dev.verity.sdk.VerityClient;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile and malformed requests get clear 4xx problem documents, change nothing, and do not stop
 * the node: broken and absurd model files, tensors that do not fit, oversized and malformed
 * bodies, bad signatures, other people's repositories, overwrites, racing publishers. The last
 * test checks that the node still serves normally after all of it, with no 5xx along the way.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HostileInputTest {
  static final String V1 = "1.0.0";

  @TempDir static Path tmp;
  static VerityNode node;
  static Signer owner;
  static VerityClient ownerClient;
  static ExampleModel cancer;
  static Path cancerFile;
  static ModelManifest cancerManifest;
  static String inferPath;

  @BeforeAll
  static void publishOneModel() throws Exception {
    node = NodeHarness.start(tmp.resolve("node"));
    owner = Signer.generate();
    ownerClient = NodeHarness.client(node, owner);
    cancer = BuiltinModels.byName(BuiltinModels.BREAST_CANCER).orElseThrow();
    cancerFile = NodeHarness.write(tmp, "cancer.onnx", cancer.onnx());
    cancerManifest = ownerClient.publish(cancerFile,
        Publication.of(cancer.name(), V1).withModes(EnumSet.of(VerificationMode.RECEIPT, VerificationMode.ZK)),
        ProgressListener.NONE);
    inferPath = NodeHarness.versionPath(cancerManifest) + "/infer";
  }

  @AfterAll
  static void stop() throws IOException {
    ownerClient.close();
    node.close();
  }

  private static NodeHarness.Response inferRaw(String body) {
    return NodeHarness.post(node.uri(), inferPath, "application/json", body.getBytes(StandardCharsets.UTF_8));
  }

  private static String features(String type, String shape, int values) {
    StringBuilder data = new StringBuilder();
    for (int i = 0; i < values; i++) {
      data.append(i == 0 ? "" : ",").append(i % 7);
    }
    return "{\"type\":\"" + type + "\",\"shape\":" + shape + ",\"data\":[" + data + "]}";
  }

  private static final String GOOD_FEATURES = features("float32", "[1,30]", 30);

  /** A manifest for {@code blob} that declares the built-in model's signature. */
  private static ModelManifest manifestFor(String repository, String version, Cid blob, long size, Signer signer)
      throws IOException {
    OnnxModelInfo info = OnnxReader.readInfo(cancerFile);
    return ModelManifest.builder().owner(signer.publicKey()).repository(repository).version(version)
        .opsets(ModelSignatures.opsets(info)).inputs(ModelSignatures.inputs(info)).outputs(ModelSignatures.outputs(info))
        .model(blob, size).sign(signer);
  }

  private static String publishPath(Signer as, String repository) {
    return "/v1/models/" + as.address() + "/" + repository + "/versions";
  }

  private static void assertNoSuchRepository(String repository) {
    assertEquals(404, NodeHarness.get(node.uri(), "/v1/models/" + owner.address() + "/" + repository).status());
    assertFalse(Files.exists(tmp.resolve("node/hub/repos").resolve(owner.address().toString()).resolve(repository)),
        "nothing of the refused version is written to the registry");
  }

  // ---- model files -------------------------------------------------------------------------

  @Test
  void truncatedOrRandomModelFilesAreRefusedAndAVersionCanStillBePublishedAfterwards() throws Exception {
    byte[] truncated = Arrays.copyOf(cancer.onnx(), cancer.onnx().length / 2);
    byte[] random = new byte[20_000];
    new Random(42).nextBytes(random);
    for (byte[] bad : List.of(truncated, random)) {
      Path file = NodeHarness.write(tmp, "bad.onnx", bad);
      Cid blob = ownerClient.uploadBlob(file, ProgressListener.NONE);
      ModelManifest m = manifestFor("fragile", V1, blob, bad.length, owner);
      assertProblem(NodeHarness.signedPost(node.uri(), owner, publishPath(owner, "fragile"), "application/cbor", m.encode()),
          400, "not a valid ONNX file");
      assertNoSuchRepository("fragile");
    }
    ModelManifest good = ownerClient.publish(cancerFile, Publication.of("fragile", V1), ProgressListener.NONE);
    assertEquals(good, ownerClient.model(ModelRef.of(owner.address(), "fragile", V1)).manifest());
  }

  /** A manifest for the hand-written Gemm model: a float32 [1, 1] -> y float32 [1, M]. */
  private static ModelManifest gemmManifest(String repository, Cid blob, long size) {
    return ModelManifest.builder().repository(repository).version(V1).opsets(Map.of("", 13L))
        .inputs(List.of(new TensorSpec("a", ElementType.FLOAT32, List.of(Dim.fixed(1), Dim.fixed(1)))))
        .outputs(List.of(new TensorSpec("y", ElementType.FLOAT32, List.of(Dim.fixed(1), Dim.dynamic("M")))))
        .model(blob, size).sign(owner);
  }

  @Test
  void aModelDeclaringAbsurdDimensionsIsRefused() throws Exception {
    // 2^40 elements: the SDK will not even describe the file, and the node refuses it as well.
    Path absurd = NodeHarness.write(tmp, "absurd.onnx", TestModels.absurdGemm(1L << 40));
    assertThrows(DecodingException.class, () -> ownerClient.publish(absurd, Publication.of("absurd", V1), ProgressListener.NONE));
    Cid blob = ownerClient.uploadBlob(absurd, ProgressListener.NONE);
    assertProblem(NodeHarness.signedPost(node.uri(), owner, publishPath(owner, "absurd"), "application/cbor",
        gemmManifest("absurd", blob, Files.size(absurd)).encode()), 400, "more than 2147483648 elements");
    assertNoSuchRepository("absurd");

    // A well-formed file with an operator ONNX Runtime does not know: only loading it tells.
    Path unknown = NodeHarness.write(tmp, "unknown-op.onnx", TestModels.unknownOperator());
    VerityApiException e = assertThrows(VerityApiException.class,
        () -> ownerClient.publish(unknown, Publication.of("absurd", V1), ProgressListener.NONE));
    assertEquals(400, e.status());
    assertTrue(e.getMessage().contains("ONNX Runtime cannot load the model"), e.getMessage());
    assertNoSuchRepository("absurd");
  }

  @Test
  void aManifestThatMisstatesTheFileIsRefused() throws Exception {
    Cid blob = ownerClient.uploadBlob(cancerFile, ProgressListener.NONE);
    ModelManifest wrongSize = manifestFor("misstated", V1, blob, cancer.onnx().length + 1, owner);
    assertProblem(NodeHarness.signedPost(node.uri(), owner, publishPath(owner, "misstated"), "application/cbor",
        wrongSize.encode()), 400, "the blob has " + cancer.onnx().length);
    ModelManifest absent = manifestFor("misstated", V1, Cid.raw(new byte[] {9}), 1, owner);
    assertProblem(NodeHarness.signedPost(node.uri(), owner, publishPath(owner, "misstated"), "application/cbor",
        absent.encode()), 400, "upload it first");
    ModelManifest wrongInputs = ModelManifest.builder().repository("misstated").version(V1)
        .opsets(cancerManifest.opsets()).inputs(cancerManifest.outputs()).outputs(cancerManifest.outputs())
        .model(blob, cancer.onnx().length).sign(owner);
    assertProblem(NodeHarness.signedPost(node.uri(), owner, publishPath(owner, "misstated"), "application/cbor",
        wrongInputs.encode()), 400, "the manifest declares inputs");
    assertProblem(NodeHarness.signedPost(node.uri(), owner, publishPath(owner, "misstated"), "application/cbor",
        "not cbor".getBytes(StandardCharsets.UTF_8)), 400, "malformed manifest");
    assertNoSuchRepository("misstated");
  }

  // ---- tensors -----------------------------------------------------------------------------

  @Test
  void tensorsThatDoNotFitTheModelAreRefusedWithTheReason() {
    assertProblem(inferRaw("{\"inputs\":{}}"), 400, "input 'features' is missing; the model expects [features float32[N, 30]]");
    assertProblem(inferRaw("{\"inputs\":{\"feature\":" + GOOD_FEATURES + "}}"), 400, "input 'features' is missing");
    assertProblem(inferRaw("{\"inputs\":{\"features\":" + GOOD_FEATURES + ",\"extra\":" + GOOD_FEATURES + "}}"), 400,
        "the model has no input named 'extra'");
    assertProblem(inferRaw("{\"inputs\":{\"features\":" + features("float64", "[1,30]", 30) + "}}"), 400,
        "input 'features' has type float64, model expects float32");
    assertProblem(inferRaw("{\"inputs\":{\"features\":" + features("float32", "[1,31]", 31) + "}}"), 400,
        "input 'features' has shape [1, 31], model expects [N, 30]");
    assertProblem(inferRaw("{\"inputs\":{\"features\":" + features("float32", "[30]", 30) + "}}"), 400,
        "input 'features' has shape [30], model expects [N, 30]");
    assertProblem(inferRaw("{\"inputs\":{\"features\":" + features("int64", "[1,30]", 30) + "}}"), 400, "has type int64");
    assertProblem(inferRaw("{\"inputs\":{\"features\":" + features("float32", "[1,30]", 29) + "}}"), 400, "features");
    assertProblem(inferRaw("{\"inputs\":{\"features\":" + features("float32", "[-1,30]", 30) + "}}"), 400,
        "'shape' of tensor 'features': negative dimension");
    assertProblem(inferRaw("{\"inputs\":{\"features\":" + features("complex", "[1,30]", 30) + "}}"), 400, "complex");
  }

  @Test
  void modesTheOwnerOrTheNodeDoNotOfferAreRefused() {
    assertProblem(inferRaw("{\"mode\":\"optimistic\",\"inputs\":{\"features\":" + GOOD_FEATURES + "}}"), 400,
        "does not allow mode 'optimistic'");
    assertProblem(inferRaw("{\"mode\":\"quantum\",\"inputs\":{\"features\":" + GOOD_FEATURES + "}}"), 400, "quantum");
    assertProblem(inferRaw("{\"mode\":7,\"inputs\":{\"features\":" + GOOD_FEATURES + "}}"), 400, "'mode' must be a string");
    assertProblem(inferRaw("{\"request_id\":\"has spaces in it\",\"inputs\":{\"features\":" + GOOD_FEATURES + "}}"), 400,
        "request id");
  }

  // ---- malformed bodies --------------------------------------------------------------------

  @Test
  void malformedBodiesAndUnsupportedMediaTypesAreRefused() {
    assertProblem(inferRaw("{"), 400, "JSON");
    assertProblem(inferRaw(""), 400, "JSON object");
    assertProblem(inferRaw("[1,2,3]"), 400, "JSON object");
    assertProblem(inferRaw("42"), 400, "JSON object");
    assertProblem(inferRaw("null"), 400, "JSON object");
    assertProblem(inferRaw("{\"inputs\":{\"features\":" + GOOD_FEATURES + "},\"extra\":1}"), 400, "unknown field 'extra'");
    assertProblem(inferRaw("{\"inputs\":{\"features\":" + GOOD_FEATURES + "}} trailing"), 400, "");
    assertProblem(inferRaw("{\"inputs\":[1]}"), 400, "tensors must be a JSON object");
    String withUnknownField = GOOD_FEATURES.substring(0, GOOD_FEATURES.length() - 1) + ",\"more\":1}";
    assertProblem(inferRaw("{\"inputs\":{\"features\":" + withUnknownField + "}}"), 400, "more");
    assertProblem(NodeHarness.post(node.uri(), inferPath, "text/plain", "features=1".getBytes(StandardCharsets.UTF_8)), 415,
        "application/json or application/x-npz");
    assertProblem(NodeHarness.post(node.uri(), inferPath, "application/xml", "<x/>".getBytes(StandardCharsets.UTF_8)), 415);
    assertProblem(NodeHarness.post(node.uri(), inferPath, "application/x-npz", "PK not a zip".getBytes(StandardCharsets.UTF_8)),
        400);
    assertProblem(NodeHarness.post(node.uri(), "/v1/manifests/not-a-cid/infer", "application/json",
        ("{\"inputs\":{\"features\":" + GOOD_FEATURES + "}}").getBytes(StandardCharsets.UTF_8)), 400, "is not a CID");
  }

  @Test
  void requestIdsAreEchoedAndInvalidOnesReplaced() {
    NodeHarness.Response r = NodeHarness.send(NodeHarness.request(node.uri(), inferPath)
        .header("Content-Type", "application/json").header("X-Request-Id", "client-chosen-7")
        .POST(HttpRequest.BodyPublishers.ofString("{")).build());
    assertEquals("client-chosen-7", assertProblem(r, 400).path("request_id").asText());
    NodeHarness.Response replaced = NodeHarness.send(NodeHarness.request(node.uri(), inferPath)
        .header("Content-Type", "application/json").header("X-Request-Id", "not valid; has spaces")
        .POST(HttpRequest.BodyPublishers.ofString("{")).build());
    assertNotEquals("not valid; has spaces", assertProblem(replaced, 400).path("request_id").asText());
    NodeHarness.Response ok = NodeHarness.send(NodeHarness.request(node.uri(), "/health").header("X-Request-Id", "health-1").GET().build());
    assertEquals("health-1", ok.header("X-Request-Id"));
  }

  // ---- sizes -------------------------------------------------------------------------------

  @Test
  void oversizedBodiesAreRefusedWith413AndTheSmallNodeKeepsServing() throws Exception {
    NodeConfig d = NodeConfig.defaults();
    NodeConfig small = new NodeConfig(tmp.resolve("small"), d.host(), 0, 4096, 64 * 1024, 1000,
        d.intraOpThreads(), d.interOpThreads(), d.executionProvider(), d.sessionCacheBytes(), d.ledger(), d.replica(), d.network(), d.gateway(),
        d.optimistic(), d.uploadRetention());
    try (VerityNode smallNode = VerityNode.start(small); VerityClient c = NodeHarness.client(smallNode, owner)) {
      ModelManifest m = c.publish(cancerFile, Publication.of(cancer.name(), V1), ProgressListener.NONE);
      String path = NodeHarness.versionPath(m) + "/infer";
      byte[] big = ("{\"inputs\":{\"features\":" + features("float32", "[1,30]", 30) + "},\"request_id\":\""
          + "x".repeat(5000) + "\"}").getBytes(StandardCharsets.UTF_8);
      assertProblem(NodeHarness.post(smallNode.uri(), path, "application/json", big), 413, "4096 bytes");
      assertProblem(NodeHarness.send(NodeHarness.request(smallNode.uri(), path).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big))).build()), 413, "4096 bytes");

      byte[] blob = new byte[100_000];
      new Random(7).nextBytes(blob);
      String auth = NodeHarness.authorization(owner, "POST", "/v1/blobs", blob, System.currentTimeMillis());
      assertProblem(NodeHarness.send(NodeHarness.request(smallNode.uri(), "/v1/blobs").header("Authorization", auth)
          .header("Content-Type", "application/octet-stream").POST(HttpRequest.BodyPublishers.ofByteArray(blob)).build()),
          413, String.valueOf(64 * 1024));
      assertProblem(NodeHarness.send(NodeHarness.request(smallNode.uri(), "/v1/blobs").header("Authorization", auth)
          .header("Content-Type", "application/octet-stream")
          .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(blob))).build()), 413);
      Path bigFile = NodeHarness.write(tmp, "big.bin", blob);
      assertEquals(413, assertThrows(VerityApiException.class, () -> c.uploadBlob(bigFile, ProgressListener.NONE)).status());

      NamedTensors tooMany = NamedTensors.of("features",
          Tensor.ofBytes(ElementType.UINT8, new long[] {1001}, new byte[1001]));
      assertProblem(NodeHarness.post(smallNode.uri(), path, "application/x-npz", dev.verity.protocol.tensor.Npy.toNpz(tooMany)),
          400, "limit is 1000");

      NamedTensors inputs = NodeHarness.sampleInputs(cancer, 0);
      InferenceResult r = c.infer(ModelRef.of(owner.address(), cancer.name(), V1), inputs);
      assertEquals(NodeHarness.runDirectly(cancerFile, small, inputs), r.outputs());
    }
    // The publish endpoint takes manifests of at most 1 MiB on any node. The refused body is still
    // taken in, so the client reads the 413 rather than a reset connection.
    for (int size : new int[] {(1 << 20) + 1, 8 << 20}) {
      byte[] huge = new byte[size];
      assertProblem(NodeHarness.signedPost(node.uri(), owner, publishPath(owner, "huge"), "application/cbor", huge), 413,
          "1048576 bytes");
      assertProblem(NodeHarness.send(NodeHarness.request(node.uri(), publishPath(owner, "huge"))
          .header("Content-Type", "application/cbor")
          .header("Authorization", NodeHarness.authorization(owner, "POST", publishPath(owner, "huge"), huge, System.currentTimeMillis()))
          .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(huge))).build()), 413);
    }
  }

  // ---- authentication and authorization ----------------------------------------------------

  @Test
  void badAuthorizationHeadersAreRefusedWith401() throws IOException {
    byte[] body = ("{\"inputs\":{\"features\":" + GOOD_FEATURES + "}}").getBytes(StandardCharsets.UTF_8);
    long now = System.currentTimeMillis();
    Signer other = Signer.generate();
    String wrongKey = NodeHarness.authorization(owner, "POST", inferPath, body, now)
        .replace(owner.publicKey().toString(), other.publicKey().toString());
    Map<String, String> cases = Map.of(
        "Bearer abc.def", "Verity-Ed25519",
        "Verity-Ed25519 key=ed25519:zzzz,time=1,sig=AA", "",
        "Verity-Ed25519 key=" + owner.publicKey() + ",time=soon,sig=AA", "unix milliseconds",
        "Verity-Ed25519 key=" + owner.publicKey() + ",time=" + now, "needs key, time, nonce and sig",
        wrongKey, "does not verify",
        NodeHarness.authorization(owner, "POST", inferPath, body, now - 6 * 60_000), "5 minutes",
        NodeHarness.authorization(owner, "POST", inferPath, body, now + 6 * 60_000), "5 minutes",
        NodeHarness.authorization(owner, "POST", inferPath, "{}".getBytes(StandardCharsets.UTF_8), now), "does not verify",
        NodeHarness.authorization(owner, "POST", inferPath + "?mode=receipt", body, now), "does not verify",
        NodeHarness.authorization(owner, "GET", inferPath, body, now), "does not verify");
    for (Map.Entry<String, String> c : cases.entrySet()) {
      NodeHarness.Response r = NodeHarness.send(NodeHarness.request(node.uri(), inferPath)
          .header("Content-Type", "application/json").header("Authorization", c.getKey())
          .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build());
      assertProblem(r, 401, c.getValue());
    }
    // Uploads and publications need a signature at all.
    assertProblem(NodeHarness.post(node.uri(), "/v1/blobs", "application/octet-stream", new byte[] {1, 2, 3}), 401, "signed");
    assertProblem(NodeHarness.post(node.uri(), publishPath(owner, "unsigned"), "application/cbor", cancerManifest.encode()),
        401, "signed");
    // An upload whose signature does not cover its bytes is refused; its bytes, new here, are left to
    // the retention sweep (deleting them at once could delete the same bytes kept for someone else).
    byte[] blob = "bytes the signature does not cover".getBytes(StandardCharsets.UTF_8);
    String auth = NodeHarness.authorization(owner, "POST", "/v1/blobs", "other bytes".getBytes(StandardCharsets.UTF_8), now);
    assertProblem(NodeHarness.send(NodeHarness.request(node.uri(), "/v1/blobs").header("Authorization", auth)
        .header("Content-Type", "application/octet-stream").POST(HttpRequest.BodyPublishers.ofByteArray(blob)).build()), 401);
    assertTrue(node.uploads().isPending(Cid.raw(blob)), "the unauthenticated upload will be swept");
  }

  @Test
  void publishingIntoSomeoneElsesRepositoryIsForbidden() throws Exception {
    Signer stranger = Signer.generate();
    ModelManifest ownersManifest = manifestFor("owned", V1, cancerManifest.model(), cancerManifest.modelSize(), owner);
    // The owner's manifest, posted by a stranger under the stranger's name: the repository differs.
    assertProblem(NodeHarness.signedPost(node.uri(), stranger, publishPath(stranger, "owned"), "application/cbor",
        ownersManifest.encode()), 403, "only a repository's owner");
    // ... and under the owner's name: the caller is not the publisher.
    assertProblem(NodeHarness.signedPost(node.uri(), stranger, publishPath(owner, "owned"), "application/cbor",
        ownersManifest.encode()), 403, "the request is signed by " + stranger.address());
    // The stranger's own manifest posted into the owner's repository.
    ModelManifest strangers = manifestFor("owned", V1, cancerManifest.model(), cancerManifest.modelSize(), stranger);
    assertProblem(NodeHarness.signedPost(node.uri(), stranger, publishPath(owner, "owned"), "application/cbor",
        strangers.encode()), 403, "only a repository's owner");
    assertNoSuchRepository("owned");
  }

  @Test
  void malformedOrMisdirectedYankNoticesAreRefused() throws Exception {
    ModelManifest other = ownerClient.publish(cancerFile, Publication.of("yank-target", V1), ProgressListener.NONE);
    String yankPath = NodeHarness.versionPath(other) + "/yank";
    byte[] notice = YankNotice.create(owner, other, "bad weights", System.currentTimeMillis()).encode();
    assertProblem(NodeHarness.post(node.uri(), yankPath, "application/cbor", notice), 401, "signed");
    assertProblem(NodeHarness.signedPost(node.uri(), owner, yankPath, "application/cbor",
        "not a notice".getBytes(StandardCharsets.UTF_8)), 400);
    byte[] forOtherVersion = YankNotice.create(owner, cancerManifest, "wrong one", System.currentTimeMillis()).encode();
    assertProblem(NodeHarness.signedPost(node.uri(), owner, yankPath, "application/cbor", forOtherVersion), 400,
        "another version");
    Signer stranger = Signer.generate();
    assertProblem(NodeHarness.signedPost(node.uri(), stranger, yankPath, "application/cbor", notice), 403,
        "signed by the caller");
    assertProblem(NodeHarness.signedPost(node.uri(), owner, "/v1/models/" + owner.address() + "/yank-target/9.9.9/yank",
        "application/cbor", notice), 404);
    assertFalse(ownerClient.model(ModelRef.ofManifest(other.cid())).yanked());
    assertFalse(ownerClient.model(ModelRef.ofManifest(cancerManifest.cid())).yanked());
    assertEquals(200, NodeHarness.signedPost(node.uri(), owner, yankPath, "application/cbor", notice).status());
    assertTrue(ownerClient.model(ModelRef.ofManifest(other.cid())).yanked());
  }

  @Test
  void versionsCannotBeOverwritten() throws Exception {
    VerityApiException same = assertThrows(VerityApiException.class,
        () -> ownerClient.publish(cancerFile, Publication.of(cancer.name(), V1), ProgressListener.NONE));
    assertEquals(409, same.status());
    assertEquals("conflict", same.type());
    Path other = NodeHarness.write(tmp, "other.onnx", BuiltinModels.byName(BuiltinModels.DIGITS_CNN).orElseThrow().onnx());
    VerityApiException different = assertThrows(VerityApiException.class,
        () -> ownerClient.publish(other, Publication.of(cancer.name(), V1), ProgressListener.NONE));
    assertEquals(409, different.status());
    assertTrue(different.getMessage().contains("versions are immutable"), different.getMessage());
    assertEquals(cancerManifest, ownerClient.model(ModelRef.of(owner.address(), cancer.name(), V1)).manifest());
  }

  @Test
  void concurrentPublishesOfOneVersionLetExactlyOneWin() throws Exception {
    int publishers = 8;
    List<ModelManifest> manifests = new ArrayList<>();
    for (int i = 0; i < publishers; i++) {
      manifests.add(ModelManifest.builder().repository("raced").version(V1).description("candidate " + i)
          .opsets(cancerManifest.opsets()).inputs(cancerManifest.inputs()).outputs(cancerManifest.outputs())
          .model(cancerManifest.model(), cancerManifest.modelSize()).sign(owner));
    }
    CountDownLatch go = new CountDownLatch(1);
    List<Future<NodeHarness.Response>> results = new ArrayList<>();
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      for (ModelManifest m : manifests) {
        results.add(pool.submit(() -> {
          go.await();
          return NodeHarness.signedPost(node.uri(), owner, publishPath(owner, "raced"), "application/cbor", m.encode());
        }));
      }
      go.countDown();
    }
    List<NodeHarness.Response> created = new ArrayList<>();
    for (Future<NodeHarness.Response> f : results) {
      NodeHarness.Response r = f.get();
      if (r.status() == 201) {
        created.add(r);
      } else {
        assertProblem(r, 409, "already exists");
      }
    }
    assertEquals(1, created.size(), "exactly one publisher wins");
    String winner = created.get(0).json().path("manifest_cid").asText();
    assertEquals(winner, NodeHarness.get(node.uri(), "/v1/models/" + owner.address() + "/raced/" + V1).json()
        .path("manifest_cid").asText());
    assertEquals(1, NodeHarness.get(node.uri(), "/v1/models/" + owner.address() + "/raced").json().path("versions").size());
  }

  // ---- routing -----------------------------------------------------------------------------

  @Test
  void unknownRoutesAre404AndWrongMethods405WithAllow() {
    assertProblem(NodeHarness.get(node.uri(), "/v1/nothing-here"), 404, "no endpoint");
    assertProblem(NodeHarness.get(node.uri(), "/"), 404);
    assertProblem(NodeHarness.get(node.uri(), "/v1/models/not-an-address/repo"), 404, "not an owner address");
    assertProblem(NodeHarness.get(node.uri(), "/v1/models/" + owner.address() + "/" + cancer.name() + "/9.9.9"), 404, "9.9.9");
    assertProblem(NodeHarness.get(node.uri(), "/v1/manifests/" + Cid.raw(new byte[] {1})), 404);
    assertProblem(NodeHarness.get(node.uri(), "/v1/blobs/" + Cid.raw(new byte[] {1})), 404);

    NodeHarness.Response delete = NodeHarness.send(NodeHarness.request(node.uri(), "/v1/models").DELETE().build());
    JsonNode p = assertProblem(delete, 405, "use GET");
    assertEquals("GET", delete.header("Allow"));
    assertEquals("Method not allowed", p.path("title").asText());
    NodeHarness.Response getBlobs = NodeHarness.get(node.uri(), "/v1/blobs");
    assertProblem(getBlobs, 405);
    assertEquals("POST", getBlobs.header("Allow"));
    NodeHarness.Response putHealth = NodeHarness.send(NodeHarness.request(node.uri(), "/health")
        .PUT(HttpRequest.BodyPublishers.ofString("x")).build());
    assertProblem(putHealth, 405);
    assertEquals("GET", putHealth.header("Allow"));
  }

  // ---- afterwards --------------------------------------------------------------------------

  @Test
  @Order(Integer.MAX_VALUE)
  void afterAllOfItTheNodeServesNormallyAndNeverAnswered5xx() throws Exception {
    assertEquals(200, NodeHarness.get(node.uri(), "/health").status());
    NamedTensors inputs = NodeHarness.sampleInputs(cancer, 1);
    try (VerityClient user = NodeHarness.client(node, Signer.generate())) {
      InferenceResult r = user.infer(ModelRef.of(owner.address(), cancer.name(), V1), inputs);
      assertEquals(NodeHarness.runDirectly(cancerFile, node.config(), inputs), r.outputs());
    }
    String metrics = NodeHarness.get(node.uri(), "/metrics").text();
    List<String> serverErrors = metrics.lines()
        .filter(l -> l.startsWith("verity_http_requests_total") && l.contains("status=\"5") && !l.contains("status=\"501\""))
        .toList();
    assertEquals(List.of(), serverErrors);
    assertTrue(metrics.contains("status=\"400\""));
  }
}
