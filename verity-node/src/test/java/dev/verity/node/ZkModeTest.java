package dev.verity.node;

import static dev.verity.node.NodeHarness.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.verity.core.Cid;
import dev.verity.core.VerificationException;
import dev.verity.core.cbor.CborValue;
import dev.verity.core.crypto.KeyFile;
import dev.verity.core.crypto.Signer;
import dev.verity.models.BuiltinModels;
import dev.verity.models.ExampleModel;
import dev.verity.onnx.Dim;
import dev.verity.onnx.ElementType;
import dev.verity.onnx.OnnxModel;
import dev.verity.onnx.OnnxWriter;
import dev.verity.protocol.InferenceReceipt;
import dev.verity.protocol.ModelManifest;
import dev.verity.protocol.VerificationMode;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import dev.verity.protocol.tensor.TensorJson;
import dev.verity.protocol.tensor.TensorLimits;
import dev.verity.sdk.InferenceResult;
import dev.verity.sdk.ModelRef;
import dev.verity.sdk.PrivateInference;
import dev.verity.sdk.ProgressListener;
import dev.verity.sdk.Publication;
import dev.verity.sdk.VerityClient;
import dev.verity.zk.Blinding;
import dev.verity.zk.InputOpening;
import dev.verity.zk.OnnxCompiler;
import dev.verity.zk.ZkEvidence;
import dev.verity.zk.ZkEvidenceVerifier;
import java.nio.file.Path;
import java.util.Base64;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mode zk through a real node over HTTP: both built-in models are proven and verified by the SDK
 * without the plain inputs; the holder opens the commitment later; a node that lies (here: a proxy
 * that holds the node's own key and re-signs what it changes) is caught; models that cannot be
 * proven are refused naming the reason.
 */
class ZkModeTest {
  @TempDir static Path tmp;
  static VerityNode node;
  static Signer owner;
  static Signer nodeKey;
  static VerityClient client;
  static final Map<ExampleModel, ModelManifest> published = new LinkedHashMap<>();
  static ModelManifest sigmoid;

  @BeforeAll
  static void publish() throws Exception {
    node = NodeHarness.start(tmp.resolve("node"));
    nodeKey = KeyFile.read(tmp.resolve("node").resolve("node.key"));
    owner = Signer.generate();
    client = NodeHarness.client(node, Signer.generate());
    try (VerityClient c = NodeHarness.client(node, owner)) {
      for (ExampleModel m : BuiltinModels.all()) {
        Path file = NodeHarness.write(tmp.resolve("models"), m.name() + ".onnx", m.onnx());
        published.put(m, c.publish(file, Publication.of(m.name(), "1.0.0")
            .withModes(EnumSet.of(VerificationMode.RECEIPT, VerificationMode.ZK)), ProgressListener.NONE));
      }
      OnnxModel s = OnnxModel.builder()
          .input("x", ElementType.FLOAT, Dim.symbolic("N"), Dim.of(3))
          .output("y", ElementType.FLOAT, Dim.symbolic("N"), Dim.of(3))
          .node("Sigmoid", List.of("x"), List.of("y"))
          .build();
      Path file = NodeHarness.write(tmp.resolve("models"), "sigmoid.onnx", OnnxWriter.write(s));
      sigmoid = c.publish(file, Publication.of("sigmoid", "1.0.0")
          .withModes(EnumSet.of(VerificationMode.RECEIPT, VerificationMode.ZK)), ProgressListener.NONE);
    }
  }

  @AfterAll
  static void stop() throws Exception {
    client.close();
    node.close();
  }

  static ModelRef ref(ExampleModel m) {
    return ModelRef.ofManifest(published.get(m).cid());
  }

  static int argmax(float[] v) {
    int best = 0;
    for (int i = 1; i < v.length; i++) {
      best = v[i] > v[best] ? i : best;
    }
    return best;
  }

  @Test
  void bothBuiltinModelsProveAndVerifyOverHttpWithoutThePlainInputs() throws Exception {
    for (ExampleModel m : BuiltinModels.all()) {
      for (int sample = 0; sample < 2; sample++) {
        NamedTensors inputs = NodeHarness.sampleInputs(m, sample);
        PrivateInference r = client.inferPrivately(ref(m), inputs);
        assertEquals(VerificationMode.ZK, r.receipt().mode());
        assertNotEquals(inputs.cid(), r.receipt().inputs(), "the receipt must not name the plain inputs");
        float[] p = r.outputs().get(m.outputName()).toFloats();
        assertEquals(m.samples().get(sample).label(), argmax(p), m.name() + " sample " + sample);
        assertEquals(ZkProving.ENGINE, r.receipt().provenance().engine());
        // someone else, holding only receipt and outputs, verifies them too
        try (VerityClient third = NodeHarness.anonymousClient(node)) {
          third.verify(r.receipt(), r.outputs());
        }
      }
    }
    assertTrue(node.inference().modesFor(published.values().iterator().next()).contains(VerificationMode.ZK));
  }

  @Test
  void inferInModeZkReturnsVerifiedOutputs() throws Exception {
    ExampleModel m = BuiltinModels.byName(BuiltinModels.DIGITS_CNN).orElseThrow();
    InferenceResult r = client.infer(ref(m), NodeHarness.sampleInputs(m, 3), VerificationMode.ZK, UUID.randomUUID().toString());
    assertEquals(3, argmax(r.outputs().get(m.outputName()).toFloats()));
  }

  @Test
  void theHolderOpensTheCommitmentLaterAndAWrongOpeningFails() throws Exception {
    ExampleModel m = BuiltinModels.byName(BuiltinModels.BREAST_CANCER).orElseThrow();
    PrivateInference r = client.inferPrivately(ref(m), NodeHarness.sampleInputs(m, 0));
    InputOpening kept = InputOpening.decode(r.opening().encode());
    try (VerityClient auditor = NodeHarness.anonymousClient(node)) {
      auditor.verifyOpening(r.receipt(), kept);
      InputOpening other = new InputOpening(NodeHarness.sampleInputs(m, 1), kept.blinding());
      assertThrows(VerificationException.class, () -> auditor.verifyOpening(r.receipt(), other));
    }
  }

  @Test
  void rawRequestsWithoutABlindingGetTheNodesBack() throws Exception {
    ExampleModel m = BuiltinModels.byName(BuiltinModels.BREAST_CANCER).orElseThrow();
    NamedTensors inputs = NodeHarness.sampleInputs(m, 1);
    String body = "{\"mode\":\"zk\",\"inputs\":" + new String(TensorJson.toBytes(inputs), java.nio.charset.StandardCharsets.UTF_8) + "}";
    NodeHarness.Response resp = NodeHarness.post(node.uri(), NodeHarness.versionPath(published.get(m)) + "/infer",
        "application/json", body.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    assertEquals(200, resp.status(), resp.text());
    JsonNode n = resp.json();
    InferenceReceipt receipt = InferenceReceipt.decode(Base64.getDecoder().decode(n.path("receipt").asText()));
    Blinding b = Blinding.of(Base64.getDecoder().decode(n.path("blinding").asText()));
    // offline, with the model file only
    ZkEvidenceVerifier offline = ZkEvidenceVerifier.create(cid -> m.onnx());
    NamedTensors outputs = TensorJson.read(NodeHarness.JSON.writeValueAsBytes(n.path("outputs")), TensorLimits.DEFAULT);
    offline.verify(receipt, published.get(m), outputs);
    offline.verifyOpening(receipt, new InputOpening(inputs, b));
    // a blinding the caller chose is not echoed
    String withBlinding = body.substring(0, body.length() - 1) + ",\"blinding\":\"" + Base64.getEncoder().encodeToString(new byte[32]) + "\"}";
    NodeHarness.Response chosen = NodeHarness.post(node.uri(), NodeHarness.versionPath(published.get(m)) + "/infer",
        "application/json", withBlinding.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    assertEquals(200, chosen.status(), chosen.text());
    assertTrue(chosen.json().path("blinding").isMissingNode());
    assertProblem(NodeHarness.post(node.uri(), NodeHarness.versionPath(published.get(m)) + "/infer", "application/json",
        (body.substring(0, body.length() - 1) + ",\"blinding\":\"AAAA\"}").getBytes(java.nio.charset.StandardCharsets.UTF_8)),
        400, "blinding");
  }

  @Test
  void npzRequestsCarryTheBlindingInAHeader() throws Exception {
    ExampleModel m = BuiltinModels.byName(BuiltinModels.DIGITS_CNN).orElseThrow();
    NamedTensors inputs = NodeHarness.sampleInputs(m, 2);
    String path = NodeHarness.versionPath(published.get(m)) + "/infer?mode=zk";
    byte[] npz = dev.verity.protocol.tensor.Npy.toNpz(inputs);
    NodeHarness.Response drawn = NodeHarness.post(node.uri(), path, "application/x-npz", npz);
    assertEquals(200, drawn.status(), drawn.text());
    Blinding b = Blinding.of(Base64.getDecoder().decode(drawn.json().path("blinding").asText()));
    InferenceReceipt receipt = InferenceReceipt.decode(Base64.getDecoder().decode(drawn.json().path("receipt").asText()));
    ZkEvidenceVerifier.create(cid -> m.onnx()).verifyOpening(receipt, new InputOpening(inputs, b));

    Blinding mine = Blinding.random();
    NodeHarness.Response chosen = NodeHarness.send(NodeHarness.request(node.uri(), path)
        .header("Content-Type", "application/x-npz")
        .header("Verity-Blinding", Base64.getEncoder().encodeToString(mine.toBytes()))
        .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(npz)).build());
    assertEquals(200, chosen.status(), chosen.text());
    assertTrue(chosen.json().path("blinding").isMissingNode());
    InferenceReceipt r2 = InferenceReceipt.decode(Base64.getDecoder().decode(chosen.json().path("receipt").asText()));
    ZkEvidenceVerifier.create(cid -> m.onnx()).verifyOpening(r2, new InputOpening(inputs, mine));
  }

  @Test
  void modelsThatCannotBeProvenAreRefusedNamingTheReason() {
    assertProblem(NodeHarness.post(node.uri(), NodeHarness.versionPath(sigmoid) + "/infer", "application/json",
        "{\"mode\":\"zk\",\"inputs\":{\"x\":{\"type\":\"float32\",\"shape\":[1,3],\"data\":[1,2,3]}}}".getBytes()),
        501, "'Sigmoid'");
    // not provable, but the canonical executor runs it: receipt and optimistic
    assertEquals(EnumSet.of(VerificationMode.RECEIPT, VerificationMode.OPTIMISTIC), node.inference().modesFor(sigmoid));
  }

  @Test
  void aBatchOfTwoIsRefusedInModeZk() {
    ExampleModel m = BuiltinModels.byName(BuiltinModels.BREAST_CANCER).orElseThrow();
    float[] two = new float[60];
    System.arraycopy(m.samples().get(0).values(), 0, two, 0, 30);
    System.arraycopy(m.samples().get(1).values(), 0, two, 30, 30);
    NamedTensors inputs = NamedTensors.of(m.inputName(), Tensor.ofFloats(new long[] {2, 30}, two));
    String body = "{\"mode\":\"zk\",\"inputs\":" + new String(TensorJson.toBytes(inputs), java.nio.charset.StandardCharsets.UTF_8) + "}";
    assertProblem(NodeHarness.post(node.uri(), NodeHarness.versionPath(published.get(m)) + "/infer", "application/json",
        body.getBytes(java.nio.charset.StandardCharsets.UTF_8)), 400, "one example per proof");
  }

  // ---- a node that lies, holding its own key --------------------------------------------------

  /** A proxy that re-signs, with the node's key, the zk receipt it changed with {@code edit}. */
  private static MaliciousProxy lyingNode(UnaryOperator<Parts> edit) throws Exception {
    MaliciousProxy proxy = new MaliciousProxy(node.uri());
    proxy.response = (method, path, body) -> {
      if (!method.equals("POST") || !path.contains("/infer")) {
        return body;
      }
      ObjectNode n = (ObjectNode) NodeHarness.JSON.readTree(body);
      InferenceReceipt real = InferenceReceipt.decode(Base64.getDecoder().decode(n.path("receipt").asText()));
      NamedTensors outputs = TensorJson.read(NodeHarness.JSON.writeValueAsBytes(n.path("outputs")), TensorLimits.DEFAULT);
      ModelManifest manifest = published.values().stream().filter(x -> x.cid().equals(real.manifest())).findFirst().orElseThrow();
      Parts p = edit.apply(new Parts(real.inputs(), outputs, ZkEvidence.fromCbor(real.evidence()).toCbor()));
      InferenceReceipt forged = InferenceReceipt.sign(nodeKey, real.requestId(), manifest, p.inputs(), p.outputs().cid(),
          real.mode(), p.evidence(), real.provenance(), real.startedAtMillis(), real.finishedAtMillis());
      n.put("receipt", Base64.getEncoder().encodeToString(forged.encode()));
      n.set("outputs", NodeHarness.JSON.readTree(TensorJson.toBytes(p.outputs())));
      return NodeHarness.JSON.writeValueAsBytes(n);
    };
    return proxy;
  }

  record Parts(Cid inputs, NamedTensors outputs, CborValue.Map evidence) {}

  private static void assertCaught(UnaryOperator<Parts> edit, int sample) throws Exception {
    ExampleModel m = BuiltinModels.byName(BuiltinModels.DIGITS_CNN).orElseThrow();
    try (MaliciousProxy proxy = lyingNode(edit);
        VerityClient c = VerityClient.builder(proxy.uri()).trustNodes(java.util.Set.of(node.publicKey())).build()) {
      assertThrows(VerificationException.class, () -> c.inferPrivately(ref(m), NodeHarness.sampleInputs(m, sample)));
    }
  }

  static CborValue.Map with(CborValue.Map m, String key, CborValue value) {
    CborValue.Map.Builder b = CborValue.Map.builder();
    m.entries().forEach((k, v) -> b.put(k, k.equals(key) ? value : v));
    return b.build();
  }

  @Test
  void theHonestRelayPasses() throws Exception {
    ExampleModel m = BuiltinModels.byName(BuiltinModels.DIGITS_CNN).orElseThrow();
    try (MaliciousProxy proxy = lyingNode(UnaryOperator.identity());
        VerityClient c = VerityClient.builder(proxy.uri()).trustNodes(java.util.Set.of(node.publicKey())).build()) {
      c.inferPrivately(ref(m), NodeHarness.sampleInputs(m, 0));
    }
  }

  @Test
  void aLyingNodeCannotChangeTheOutputs() throws Exception {
    assertCaught(p -> {
      ExampleModel m = BuiltinModels.byName(BuiltinModels.DIGITS_CNN).orElseThrow();
      float[] v = p.outputs().get(m.outputName()).toFloats();
      float t = v[0];
      v[0] = v[1];
      v[1] = t;
      return new Parts(p.inputs(), NamedTensors.of(m.outputName(), Tensor.ofFloats(new long[] {1, 10}, v)), p.evidence());
    }, 0);
  }

  @Test
  void aLyingNodeCannotChangeAnyProofByte() throws Exception {
    for (int at : new int[] {5, 100, 5000, 20000}) {
      assertCaught(p -> {
        byte[] proof = p.evidence().getBytes("proof");
        proof[Math.min(at, proof.length - 1)] ^= 0x40;
        return new Parts(p.inputs(), p.outputs(), with(p.evidence(), "proof", new CborValue.Bytes(proof)));
      }, 0);
    }
  }

  @Test
  void aLyingNodeCannotNameThePlainInputsOrAnotherCommitment() throws Exception {
    ExampleModel m = BuiltinModels.byName(BuiltinModels.DIGITS_CNN).orElseThrow();
    assertCaught(p -> new Parts(NodeHarness.sampleInputs(m, 0).cid(), p.outputs(), p.evidence()), 0);
    assertCaught(p -> {
      byte[] other = new byte[32];
      other[0] = 1;
      CborValue.Map ev = with(p.evidence(), "input", new CborValue.Bytes(other));
      return new Parts(ZkEvidence.inputsCid(dev.verity.zk.InputCommitment.fromBytes(other)), p.outputs(), ev);
    }, 0);
  }

  @Test
  void aLyingNodeCannotAnswerWithAValidProofAboutAnotherInput() throws Exception {
    // the node proves sample 1 honestly but the client asked about sample 0: only the opening check catches it
    ExampleModel m = BuiltinModels.byName(BuiltinModels.DIGITS_CNN).orElseThrow();
    var prover = dev.verity.zk.ModelProver.of(OnnxCompiler.compile(m.cid(), m.onnx()));
    var other = prover.prove(NodeHarness.sampleInputs(m, 1), Blinding.random());
    assertCaught(p -> new Parts(ZkEvidence.inputsCid(other.evidence().input()), other.outputs(),
        other.evidence().toCbor()), 0);
  }

  @Test
  void aModelFileThatIsNotTheOneNamedIsRejected() throws Exception {
    // a proxy serving another file for the model CID: the verifier re-hashes what it fetched
    ExampleModel m = BuiltinModels.byName(BuiltinModels.DIGITS_CNN).orElseThrow();
    byte[] wrong = BuiltinModels.byName(BuiltinModels.BREAST_CANCER).orElseThrow().onnx();
    try (MaliciousProxy proxy = new MaliciousProxy(node.uri());
        VerityClient c = VerityClient.builder(proxy.uri()).trustNodes(java.util.Set.of(node.publicKey())).build()) {
      proxy.response = (method, path, body) -> path.startsWith("/v1/blobs/") ? wrong : body;
      VerificationException e = assertThrows(VerificationException.class,
          () -> c.inferPrivately(ref(m), NodeHarness.sampleInputs(m, 0)));
      assertTrue(e.getMessage().contains("hashes to"), e.getMessage());
    }
  }
}
