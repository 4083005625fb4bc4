package dev.verity.node;

import static dev.verity.node.NodeHarness.assertProblem;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.verity.core.Cid;
import dev.verity.core.cbor.Cbor;
import dev.verity.core.cbor.CborValue;
import dev.verity.core.crypto.Signer;
import dev.verity.models.BuiltinModels;
import dev.verity.models.ExampleModel;
import dev.verity.onnx.ModelSignatures;
import dev.verity.onnx.OnnxModelInfo;
import dev.verity.onnx.OnnxReader;
import dev.verity.protocol.Delegation;
import dev.verity.protocol.InferenceReceipt;
import dev.verity.protocol.ModelManifest;
import dev.verity.protocol.ReceiptVerifier;
import dev.verity.protocol.Signing;
import dev.verity.protocol.YankNotice;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Npy;
import dev.verity.protocol.tensor.Tensor;
import dev.verity.runtime.LoadedModel;
import dev.verity.runtime.ModelSource;
import dev.verity.runtime.OnnxRuntimeEngine;
import dev.verity.sdk.InferenceResult;
import dev.verity.sdk.ModelRef;
import dev.verity.sdk.ProgressListener;
import dev.verity.sdk.Publication;
import dev.verity.sdk.VerityApiException;
import dev.verity.sdk.VerityClient;
import dev.verity.sdk.VerityClient.RepositoryListing;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The user's path through a real node: the built-in models published with the SDK and run with
 * verified receipts, both transports, listing, showing, downloading, yanking, private models and
 * delegated publishing. One node serves every test of this class.
 */
class PublishAndInferTest {
  static final String V1 = "1.0.0";

  @TempDir static Path tmp;
  static VerityNode node;
  static Signer owner;
  static VerityClient ownerClient;
  static VerityClient userClient;
  static final Map<ExampleModel, ModelManifest> builtins = new LinkedHashMap<>();
  static final Map<ExampleModel, Path> builtinFiles = new LinkedHashMap<>();
  static Path wideFile;
  static ModelManifest wide;

  @BeforeAll
  static void publishModels() throws Exception {
    node = NodeHarness.start(tmp.resolve("node"));
    owner = Signer.generate();
    ownerClient = NodeHarness.client(node, owner);
    userClient = NodeHarness.client(node, Signer.generate());
    for (ExampleModel m : BuiltinModels.all()) {
      Path file = NodeHarness.write(tmp.resolve("models"), m.name() + ".onnx", m.onnx());
      builtinFiles.put(m, file);
      Publication p = Publication.of(m.name(), V1).withDetails(m.task(), m.dataLicence(), m.description(), List.of("example"));
      builtins.put(m, ownerClient.publish(file, p, ProgressListener.NONE));
    }
    wideFile = NodeHarness.write(tmp.resolve("models"), "wide.onnx", TestModels.wideMatMul(100_000, 3));
    wide = ownerClient.publish(wideFile, Publication.of("wide", V1), ProgressListener.NONE);
  }

  @AfterAll
  static void stop() throws IOException {
    ownerClient.close();
    userClient.close();
    node.close();
  }

  static ModelManifest breastCancer() {
    return builtins.get(BuiltinModels.byName(BuiltinModels.BREAST_CANCER).orElseThrow());
  }

  // ---- inference ---------------------------------------------------------------------------

  @Test
  void builtinModelsGiveVerifiedOutputsBitIdenticalToOnnxRuntime() throws Exception {
    try (OnnxRuntimeEngine engine = OnnxRuntimeEngine.create()) {
      for (ExampleModel m : BuiltinModels.all()) {
        ModelManifest manifest = builtins.get(m);
        try (LoadedModel direct = engine.load(ModelSource.file(builtinFiles.get(m)), NodeHarness.sessionConfig(node.config()))) {
          for (int i = 0; i < m.samples().size(); i++) {
            NamedTensors inputs = NodeHarness.sampleInputs(m, i);
            InferenceResult r = userClient.infer(ModelRef.of(owner.address(), m.name(), V1), inputs);
            NamedTensors expected = direct.run(inputs);
            assertEquals(expected, r.outputs(), m.name() + " sample " + i);
            assertEquals(expected.cid(), r.receipt().outputs());
            assertEquals(inputs.cid(), r.receipt().inputs());
            assertEquals(manifest.cid(), r.receipt().manifest());
            assertEquals(manifest.model(), r.receipt().model());
            assertEquals(node.publicKey(), r.receipt().node());
          }
        }
      }
    }
  }

  @Test
  void theModelIsReachableByVersionByLatestAndByManifestCid() throws Exception {
    ExampleModel m = BuiltinModels.all().get(1);
    ModelManifest manifest = builtins.get(m);
    NamedTensors inputs = NodeHarness.sampleInputs(m, 0);
    NamedTensors byVersion = userClient.infer(ModelRef.of(owner.address(), m.name(), V1), inputs).outputs();
    InferenceResult latest = userClient.infer(ModelRef.latest(owner.address(), m.name()), inputs);
    InferenceResult byCid = userClient.infer(ModelRef.ofManifest(manifest.cid()), inputs);
    assertEquals(byVersion, latest.outputs());
    assertEquals(byVersion, byCid.outputs());
    assertEquals(manifest, latest.manifest());
    assertEquals(manifest, byCid.manifest());
  }

  @Test
  void jsonAndNpzRequestsAndResponsesNameTheSameTensors() throws Exception {
    ExampleModel m = BuiltinModels.all().get(0);
    ModelManifest manifest = builtins.get(m);
    NamedTensors inputs = NodeHarness.sampleInputs(m, 1);
    InferenceResult viaSdk = userClient.infer(ModelRef.ofManifest(manifest.cid()), inputs);
    ReceiptVerifier verifier = ReceiptVerifier.create().trustingOnly(Set.of(node.publicKey()));

    String path = NodeHarness.versionPath(manifest) + "/infer";
    NodeHarness.Response json = NodeHarness.post(node.uri(), path, "application/json", NodeHarness.inferJson(inputs));
    assertEquals(200, json.status(), json.text());
    InferenceReceipt jsonReceipt = receiptOf(json.json());
    NodeHarness.Response npz = NodeHarness.post(node.uri(), path + "?mode=receipt&request_id=npz-1", "application/x-npz",
        Npy.toNpz(inputs));
    assertEquals(200, npz.status(), npz.text());
    InferenceReceipt npzReceipt = receiptOf(npz.json());
    assertEquals("npz-1", npzReceipt.requestId());

    NodeHarness.Response npzOut = NodeHarness.send(NodeHarness.request(node.uri(), path)
        .header("Content-Type", "application/json").header("Accept", "application/x-npz")
        .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(NodeHarness.inferJson(inputs))).build());
    assertEquals(200, npzOut.status(), npzOut.text());
    assertEquals("application/x-npz", npzOut.header("Content-Type"));
    NamedTensors npzOutputs = Npy.readNpz(new ByteArrayInputStream(npzOut.body()), dev.verity.protocol.tensor.TensorLimits.DEFAULT);
    InferenceReceipt headerReceipt = InferenceReceipt.decode(Base64.getDecoder().decode(npzOut.header("Verity-Receipt")));

    for (InferenceReceipt r : List.of(jsonReceipt, npzReceipt, headerReceipt)) {
      assertEquals(viaSdk.receipt().inputs(), r.inputs());
      assertEquals(viaSdk.receipt().outputs(), r.outputs());
      verifier.verify(r, manifest, inputs, viaSdk.outputs());
    }
    assertEquals(viaSdk.outputs(), npzOutputs);
  }

  @Test
  void largeInputsTravelAsNpzAndGiveTheSameOutputsAsJson() throws Exception {
    float[] row = new float[100_000];
    for (int i = 0; i < row.length; i++) {
      row[i] = (i % 97) / 97f - 0.5f;
    }
    NamedTensors inputs = NamedTensors.of("x", Tensor.ofFloats(new long[] {1, row.length}, row));
    assertTrue(inputs.totalBytes() > 256 * 1024, "the input is above the SDK's JSON limit");
    InferenceResult viaSdk;
    try (MaliciousProxy relay = new MaliciousProxy(node.uri());
        VerityClient c = VerityClient.builder(relay.uri()).trustNodes(Set.of(node.publicKey())).build()) {
      viaSdk = c.infer(ModelRef.of(owner.address(), "wide", V1), inputs);
      c.infer(ModelRef.of(owner.address(), "wide", V1), NamedTensors.of("x", Tensor.ofFloats(new long[] {0, row.length}, new float[0])));
      List<String> inferences = relay.seen.stream().filter(r -> r.startsWith("POST ")).toList();
      assertEquals(2, inferences.size(), relay.seen.toString());
      assertTrue(inferences.get(0).endsWith(" application/x-npz"), inferences.get(0));
      assertTrue(inferences.get(1).endsWith(" application/json"), inferences.get(1));
    }
    assertEquals(NodeHarness.runDirectly(wideFile, node.config(), inputs), viaSdk.outputs());

    String path = NodeHarness.versionPath(wide) + "/infer";
    NodeHarness.Response json = NodeHarness.post(node.uri(), path, "application/json", NodeHarness.inferJson(inputs));
    assertEquals(200, json.status(), json.text());
    InferenceReceipt jsonReceipt = receiptOf(json.json());
    NodeHarness.Response npz = NodeHarness.post(node.uri(), path, "application/x-npz", Npy.toNpz(inputs));
    assertEquals(200, npz.status(), npz.text());
    InferenceReceipt npzReceipt = receiptOf(npz.json());
    assertEquals(viaSdk.receipt().inputs(), jsonReceipt.inputs());
    assertEquals(viaSdk.receipt().inputs(), npzReceipt.inputs());
    assertEquals(viaSdk.receipt().outputs(), jsonReceipt.outputs());
    assertEquals(viaSdk.receipt().outputs(), npzReceipt.outputs());
  }

  private static InferenceReceipt receiptOf(JsonNode response) {
    InferenceReceipt r = InferenceReceipt.decode(Base64.getDecoder().decode(response.path("receipt").asText()));
    assertEquals(r.cid().toString(), response.path("receipt_cid").asText());
    assertEquals(r.manifest().toString(), response.path("manifest_cid").asText());
    return r;
  }

  // ---- listing, showing, downloading -------------------------------------------------------

  @Test
  void listsEveryPublishedRepositoryWithItsVersions() throws Exception {
    List<RepositoryListing> listing = userClient.listModels();
    for (ExampleModel m : BuiltinModels.all()) {
      RepositoryListing r = listing.stream().filter(l -> l.name().equals(m.name())).findFirst().orElseThrow();
      assertEquals(owner.address().toString(), r.owner());
      assertEquals(List.of(V1), r.versions());
    }
    NodeHarness.Response repo = NodeHarness.get(node.uri(), "/v1/models/" + owner.address() + "/" + BuiltinModels.BREAST_CANCER);
    assertEquals(200, repo.status());
    JsonNode version = repo.json().path("versions").get(0);
    assertEquals(breastCancer().cid().toString(), version.path("manifest_cid").asText());
    assertFalse(version.path("yanked").asBoolean());
  }

  @Test
  void showsTheSignedManifestOfAVersion() throws Exception {
    ModelManifest published = breastCancer();
    VerityClient.ModelVersion v = userClient.model(ModelRef.of(owner.address(), BuiltinModels.BREAST_CANCER, V1));
    assertEquals(published, v.manifest());
    assertFalse(v.yanked());
    assertEquals(published, userClient.model(ModelRef.ofManifest(published.cid())).manifest());
    assertEquals(published, userClient.manifest(published.cid()));
    JsonNode view = NodeHarness.get(node.uri(), NodeHarness.versionPath(published)).json().path("view");
    assertEquals("features", view.path("inputs").get(0).path("name").asText());
    assertEquals(published.model().toString(), view.path("model_cid").asText());
    assertEquals("classification", view.path("task").asText());
  }

  @Test
  void downloadsAreVerifiedAndByteIdentical() throws Exception {
    List<Path> sources = new ArrayList<>(builtinFiles.values());
    sources.add(wideFile);
    List<ModelManifest> manifests = new ArrayList<>(builtins.values());
    manifests.add(wide);
    for (int i = 0; i < sources.size(); i++) {
      Path out = tmp.resolve("download-" + i + ".onnx");
      ModelManifest m = userClient.download(ModelRef.ofManifest(manifests.get(i).cid()), out, ProgressListener.NONE);
      assertEquals(manifests.get(i), m);
      assertArrayEquals(Files.readAllBytes(sources.get(i)), Files.readAllBytes(out), "download of " + m);
    }
    assertTrue(wide.modelSize() > 1 << 20, "the wide model is stored in chunks");
  }

  // ---- yanking -----------------------------------------------------------------------------

  @Test
  void yankedVersionRefusesInferenceAndLatestSkipsIt() throws Exception {
    ExampleModel m = BuiltinModels.all().get(0);
    Path file = builtinFiles.get(m);
    Cid blob = ownerClient.uploadBlob(file, ProgressListener.NONE);
    OnnxModelInfo info = OnnxReader.readInfo(file);
    ModelManifest older = ownerClient.publishManifest(ModelManifest.builder()
        .owner(owner.publicKey()).repository("yank-me").version("1.0.0")
        .opsets(ModelSignatures.opsets(info)).inputs(ModelSignatures.inputs(info)).outputs(ModelSignatures.outputs(info))
        .model(blob, Files.size(file)).createdAtMillis(System.currentTimeMillis() - 60_000).sign(owner));
    ModelManifest newer = ownerClient.publish(file, Publication.of("yank-me", "2.0.0"), ProgressListener.NONE);
    ModelRef latest = ModelRef.latest(owner.address(), "yank-me");
    ModelRef newerRef = ModelRef.of(owner.address(), "yank-me", "2.0.0");
    assertEquals(newer, userClient.model(latest).manifest());

    // A stranger's yank notice: the SDK will not send it, and the node refuses it when sent.
    Signer stranger = Signer.generate();
    try (VerityClient strangerClient = NodeHarness.client(node, stranger)) {
      assertThrows(dev.verity.core.VerificationException.class, () -> strangerClient.yank(newerRef, "mine now"));
    }
    byte[] notice = YankNotice.create(stranger, newer, "mine now", System.currentTimeMillis()).encode();
    assertProblem(NodeHarness.signedPost(node.uri(), stranger, NodeHarness.versionPath(newer) + "/yank", "application/cbor",
        notice), 403, "only the owner or its delegate");
    assertFalse(userClient.model(newerRef).yanked());

    ownerClient.yank(newerRef, "superseded by a fix");
    VerityClient.ModelVersion shown = userClient.model(newerRef);
    assertTrue(shown.yanked());
    assertEquals("superseded by a fix", shown.yankReason().orElseThrow());
    NamedTensors inputs = NodeHarness.sampleInputs(m, 0);
    VerityApiException gone = assertThrows(VerityApiException.class, () -> userClient.infer(newerRef, inputs));
    assertEquals(410, gone.status());
    assertEquals("yanked", gone.type());
    assertProblem(NodeHarness.post(node.uri(), NodeHarness.versionPath(newer) + "/infer", "application/json",
        NodeHarness.inferJson(inputs)), 410, "superseded by a fix");
    assertProblem(NodeHarness.post(node.uri(), "/v1/manifests/" + newer.cid() + "/infer", "application/json",
        NodeHarness.inferJson(inputs)), 410);

    assertEquals(older, userClient.model(latest).manifest());
    assertEquals(older, userClient.infer(latest, inputs).manifest());
    assertTrue(NodeHarness.get(node.uri(), "/v1/models/" + owner.address() + "/yank-me").json().path("versions")
        .findValues("yanked").stream().anyMatch(JsonNode::asBoolean));
    // The yanked version stays readable and downloadable: it is immutable, only marked.
    userClient.download(newerRef, tmp.resolve("yanked.onnx"), ProgressListener.NONE);
    assertArrayEquals(Files.readAllBytes(file), Files.readAllBytes(tmp.resolve("yanked.onnx")));
  }

  // ---- private models ----------------------------------------------------------------------

  @Test
  void privateModelServesOnlyItsOwnerAndAllowList() throws Exception {
    Path file = NodeHarness.write(tmp.resolve("models"), "private.onnx", TestModels.wideMatMul(40, 2));
    Signer allowed = Signer.generate();
    ModelManifest manifest = ownerClient.publish(file,
        Publication.of("private-model", V1).privateTo(List.of(allowed.address())), ProgressListener.NONE);
    ModelRef ref = ModelRef.of(owner.address(), "private-model", V1);
    float[] x = new float[80];
    for (int i = 0; i < x.length; i++) {
      x[i] = i / 8f - 5f;
    }
    NamedTensors inputs = NamedTensors.of("x", Tensor.ofFloats(new long[] {2, 40}, x));

    try (VerityClient anonymous = NodeHarness.anonymousClient(node);
        VerityClient stranger = NodeHarness.client(node, Signer.generate());
        VerityClient friend = NodeHarness.client(node, allowed)) {
      assertEquals(401, assertThrows(VerityApiException.class, () -> anonymous.infer(ref, inputs)).status());
      assertEquals(403, assertThrows(VerityApiException.class, () -> stranger.infer(ref, inputs)).status());
      assertEquals(manifest, ownerClient.infer(ref, inputs).manifest());
      InferenceResult r = friend.infer(ref, inputs);
      assertEquals(NodeHarness.runDirectly(file, node.config(), inputs), r.outputs());

      Path out = tmp.resolve("private-download.onnx");
      assertEquals(401, assertThrows(VerityApiException.class, () -> anonymous.download(ref, out, ProgressListener.NONE)).status());
      assertEquals(403, assertThrows(VerityApiException.class, () -> stranger.download(ref, out, ProgressListener.NONE)).status());
      assertFalse(Files.exists(out));
      friend.download(ref, out, ProgressListener.NONE);
      assertArrayEquals(Files.readAllBytes(file), Files.readAllBytes(out));
      ownerClient.download(ref, out, ProgressListener.NONE);
      assertArrayEquals(Files.readAllBytes(file), Files.readAllBytes(out));
    }
    assertProblem(NodeHarness.post(node.uri(), NodeHarness.versionPath(manifest) + "/infer", "application/json",
        NodeHarness.inferJson(inputs)), 401, "private");
    assertProblem(NodeHarness.get(node.uri(), "/v1/blobs/" + manifest.model()), 401, "private");
  }

  @Test
  void aFilePublishedBothPubliclyAndPrivatelyStaysDownloadableThroughThePublicVersion() throws Exception {
    ExampleModel m = BuiltinModels.all().get(0);
    ModelManifest copy = ownerClient.publish(builtinFiles.get(m),
        Publication.of("private-copy", V1).privateTo(List.of()), ProgressListener.NONE);
    assertEquals(builtins.get(m).model(), copy.model());
    try (VerityClient anonymous = NodeHarness.anonymousClient(node)) {
      Path out = tmp.resolve("public-download.onnx");
      anonymous.download(ModelRef.ofManifest(builtins.get(m).cid()), out, ProgressListener.NONE);
      assertArrayEquals(m.onnx(), Files.readAllBytes(out));
      assertEquals(401, assertThrows(VerityApiException.class,
          () -> anonymous.infer(ModelRef.ofManifest(copy.cid()), NodeHarness.sampleInputs(m, 0))).status());
    }
  }

  // ---- delegation --------------------------------------------------------------------------

  @Test
  void aDelegateKeyPublishesAndYanksForTheOwner() throws Exception {
    ExampleModel m = BuiltinModels.all().get(1);
    Path file = builtinFiles.get(m);
    Signer ci = Signer.generate();
    Delegation grant = Delegation.create(owner, ci.publicKey(), "delegated", System.currentTimeMillis() + 3_600_000);
    OnnxModelInfo info = OnnxReader.readInfo(file);
    try (VerityClient ciClient = NodeHarness.client(node, ci)) {
      Cid blob = ciClient.uploadBlob(file, ProgressListener.NONE);
      ModelManifest manifest = ciClient.publishManifest(ModelManifest.builder()
          .owner(owner.publicKey()).repository("delegated").version(V1)
          .opsets(ModelSignatures.opsets(info)).inputs(ModelSignatures.inputs(info)).outputs(ModelSignatures.outputs(info))
          .model(blob, Files.size(file)).delegation(grant).sign(ci));
      assertEquals(owner.address(), manifest.ownerAddress());
      assertEquals(ci.publicKey(), manifest.publisher());

      ModelRef ref = ModelRef.of(owner.address(), "delegated", V1);
      NamedTensors inputs = NodeHarness.sampleInputs(m, 0);
      InferenceResult r = userClient.infer(ref, inputs);
      assertEquals(manifest, r.manifest());
      assertEquals(NodeHarness.runDirectly(file, node.config(), inputs), r.outputs());

      // The same grant does not reach another repository of the owner: re-signed by the delegate
      // for "delegated-elsewhere", the manifest no longer verifies and the node refuses it.
      CborValue.Map signed = Cbor.decodeMap(manifest.encode());
      CborValue.Map.Builder body = CborValue.Map.builder();
      Signing.body(signed).entries().forEach((k, v) -> body.put(k, k.equals("repository") ? new CborValue.Text("delegated-elsewhere") : v));
      byte[] elsewhere = Cbor.encode(Signing.sign("verity/manifest/v1", body.build(), ci));
      assertThrows(dev.verity.core.VerificationException.class, () -> ModelManifest.decode(elsewhere).verify());
      assertProblem(NodeHarness.signedPost(node.uri(), ci, "/v1/models/" + owner.address() + "/delegated-elsewhere/versions",
          "application/cbor", elsewhere), 400, "delegation");
      assertEquals(404, NodeHarness.get(node.uri(), "/v1/models/" + owner.address() + "/delegated-elsewhere").status());

      ciClient.yank(ref, "rotated by CI");
      assertTrue(userClient.model(ref).yanked());
    }
  }

  // ---- health, identity, metrics -----------------------------------------------------------

  @Test
  void reportsHealthIdentityAndRequestMetricsByRoute() throws Exception {
    NodeHarness.Response health = NodeHarness.get(node.uri(), "/health");
    assertEquals(200, health.status());
    assertEquals("ok", health.json().path("status").asText());

    NodeHarness.Response identity = NodeHarness.get(node.uri(), "/v1/node");
    assertEquals(200, identity.status());
    assertEquals(node.publicKey().toString(), identity.json().path("public_key").asText());
    assertEquals(node.publicKey().address().toString(), identity.json().path("address").asText());
    assertEquals(node.publicKey(), userClient.nodeInfo().publicKey());
    assertEquals(List.of("receipt", "optimistic", "zk"), StreamSupport.stream(identity.json().path("modes").spliterator(), false)
        .map(JsonNode::asText).toList());

    ExampleModel m = BuiltinModels.all().get(0);
    userClient.infer(ModelRef.of(owner.address(), m.name(), V1), NodeHarness.sampleInputs(m, 0));
    assertEquals(404, NodeHarness.get(node.uri(), "/v1/models/" + owner.address() + "/no-such-repo").status());

    NodeHarness.Response metrics = NodeHarness.get(node.uri(), "/metrics");
    assertEquals(200, metrics.status());
    assertTrue(metrics.header("Content-Type").startsWith("text/plain"));
    String text = metrics.text();
    assertCounterAtLeast(text, "verity_http_requests_total{route=\"POST /v1/models/{owner}/{repo}/{version}/infer\",status=\"200\"}", 1);
    assertCounterAtLeast(text, "verity_http_requests_total{route=\"POST /v1/models/{owner}/{repo}/versions\",status=\"201\"}", 3);
    assertCounterAtLeast(text, "verity_http_requests_total{route=\"GET /v1/models/{owner}/{repo}\",status=\"404\"}", 1);
    assertCounterAtLeast(text, "verity_http_requests_total{route=\"GET /health\",status=\"200\"}", 1);
    assertCounterAtLeast(text, "verity_inferences_total", 1);
    assertCounterAtLeast(text, "verity_versions_published_total", 3);
    assertTrue(text.contains("verity_http_request_duration_seconds_count{route=\"POST /v1/models/{owner}/{repo}/{version}/infer\"}"));
  }

  private static void assertCounterAtLeast(String metrics, String series, long atLeast) {
    String line = metrics.lines().filter(l -> l.startsWith(series + " ")).findFirst()
        .orElseThrow(() -> new AssertionError("no series " + series + " in\n" + metrics));
    long value = Long.parseLong(line.substring(series.length() + 1).trim());
    assertTrue(value >= atLeast, line);
  }
}
