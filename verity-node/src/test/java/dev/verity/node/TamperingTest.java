package dev.verity.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.verity.core.Cid;
import dev.verity.core.DecodingException;
import dev.verity.core.VerificationException;
import dev.verity.core.cbor.Cbor;
import dev.verity.core.cbor.CborValue;
import dev.verity.core.crypto.Signer;
import dev.verity.models.BuiltinModels;
import dev.verity.models.ExampleModel;
import dev.verity.protocol.InferenceReceipt;
import dev.verity.protocol.ModelManifest;
import dev.verity.protocol.ReceiptVerifier;
import dev.verity.protocol.VerificationMode;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import dev.verity.sdk.InferenceResult;
import dev.verity.sdk.ModelRef;
import dev.verity.sdk.ProgressListener;
import dev.verity.sdk.Publication;
import dev.verity.sdk.VerityClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Evidence that was changed after the node signed it never verifies: tampered receipts, tensors
 * and manifests fail {@link ReceiptVerifier}, and a node that lies over HTTP (a proxy in front of
 * a real node that rewrites what it says) makes {@link VerityClient} throw instead of returning
 * outputs.
 */
class TamperingTest {
  @TempDir static Path tmp;
  static VerityNode node;
  static Signer owner;
  static ExampleModel model;
  static ModelManifest v1;
  static ModelManifest v2;
  static NamedTensors inputs;
  static InferenceResult honest;
  static ReceiptVerifier verifier;
  MaliciousProxy proxy;

  @BeforeAll
  static void runOneHonestInference() throws Exception {
    node = NodeHarness.start(tmp.resolve("node"));
    owner = Signer.generate();
    model = BuiltinModels.byName(BuiltinModels.BREAST_CANCER).orElseThrow();
    Path file = NodeHarness.write(tmp, "model.onnx", model.onnx());
    try (VerityClient c = NodeHarness.client(node, owner)) {
      v1 = c.publish(file, Publication.of(model.name(), "1.0.0"), ProgressListener.NONE);
      v2 = c.publish(file, Publication.of(model.name(), "2.0.0"), ProgressListener.NONE);
      inputs = NodeHarness.sampleInputs(model, 0);
      honest = c.infer(ModelRef.of(owner.address(), model.name(), "1.0.0"), inputs);
    }
    verifier = ReceiptVerifier.create().trustingOnly(Set.of(node.publicKey()));
    verifier.verify(honest.receipt(), v1, inputs, honest.outputs());
  }

  @AfterAll
  static void stop() throws IOException {
    node.close();
  }

  @BeforeEach
  void startProxy() throws IOException {
    proxy = new MaliciousProxy(node.uri());
  }

  @AfterEach
  void stopProxy() {
    proxy.close();
  }

  private void assertRejected(InferenceReceipt receipt, ModelManifest manifest, NamedTensors in, NamedTensors out, String reason) {
    VerificationException e = assertThrows(VerificationException.class, () -> verifier.verify(receipt, manifest, in, out));
    assertTrue(e.getMessage().contains(reason), () -> "'" + e.getMessage() + "' should say '" + reason + "'");
  }

  private static NamedTensors withFirstValueNudged(NamedTensors t) {
    String name = t.names().iterator().next();
    Tensor tensor = t.get(name);
    float[] v = tensor.toFloats();
    v[0] = Math.nextUp(v[0]);
    return NamedTensors.of(Map.of(name, Tensor.ofFloats(tensor.shape(), v)));
  }

  /** The receipt's CBOR map with one field replaced, the node's signature kept. */
  private static InferenceReceipt withField(InferenceReceipt r, String field, CborValue value) {
    CborValue.Map.Builder b = CborValue.Map.builder();
    Cbor.decodeMap(r.encode()).entries().forEach((k, v) -> b.put(k, k.equals(field) ? value : v));
    return InferenceReceipt.decode(Cbor.encode(b.build()));
  }

  // ---- the receipt verifier ------------------------------------------------------------------

  @Test
  void rejectsReceiptWithChangedOutput() {
    assertRejected(honest.receipt(), v1, inputs, withFirstValueNudged(honest.outputs()), "outputs do not match");
  }

  @Test
  void rejectsReceiptWithChangedInput() {
    assertRejected(honest.receipt(), v1, withFirstValueNudged(inputs), honest.outputs(), "inputs do not match");
  }

  @Test
  void rejectsReceiptWhoseInputOrOutputHashWasReplaced() {
    NamedTensors otherInputs = withFirstValueNudged(inputs);
    InferenceReceipt forged = withField(honest.receipt(), "inputs", new CborValue.Bytes(otherInputs.cid().toBytes()));
    assertRejected(forged, v1, otherInputs, honest.outputs(), "signature");
    NamedTensors otherOutputs = withFirstValueNudged(honest.outputs());
    InferenceReceipt forgedOut = withField(honest.receipt(), "outputs", new CborValue.Bytes(otherOutputs.cid().toBytes()));
    assertRejected(forgedOut, v1, inputs, otherOutputs, "signature");
  }

  @Test
  void rejectsReceiptWithChangedModelOrManifestCid() {
    Cid otherModel = Cid.raw(new byte[] {1, 2, 3});
    InferenceReceipt otherModelReceipt = withField(honest.receipt(), "model", new CborValue.Bytes(otherModel.toBytes()));
    assertEquals(otherModel, otherModelReceipt.model());
    assertRejected(otherModelReceipt, v1, inputs, honest.outputs(), "signature");
    InferenceReceipt manifest = withField(honest.receipt(), "manifest", new CborValue.Bytes(v2.cid().toBytes()));
    assertRejected(manifest, v2, inputs, honest.outputs(), "signature");
    // The honest receipt does not vouch for another version of the same model either.
    assertRejected(honest.receipt(), v2, inputs, honest.outputs(), "receipt is for manifest");
  }

  @Test
  void rejectsReceiptValidlySignedByAnotherNodeKey() throws Exception {
    InferenceReceipt r = honest.receipt();
    InferenceReceipt byOther = InferenceReceipt.sign(Signer.generate(), r.requestId(), v1, r.inputs(), r.outputs(), r.mode(),
        r.evidence(), r.provenance(), r.startedAtMillis(), r.finishedAtMillis());
    // Everything about it checks out but the key: a verifier that trusts any node accepts it ...
    ReceiptVerifier.create().verify(byOther, v1, inputs, honest.outputs());
    // ... and one that trusts only the real node does not.
    assertRejected(byOther, v1, inputs, honest.outputs(), "untrusted node key");
  }

  @Test
  void rejectsReceiptWithAnyChangedSignatureByte() {
    byte[] signature = Cbor.decodeMap(honest.receipt().encode()).getBytes("signature");
    assertEquals(64, signature.length);
    for (int i = 0; i < signature.length; i++) {
      byte[] changed = signature.clone();
      changed[i] ^= (byte) (1 << (i % 8));
      assertRejected(withField(honest.receipt(), "signature", new CborValue.Bytes(changed)), v1, inputs, honest.outputs(),
          "signature");
    }
  }

  @Test
  void noSingleBitFlipAnywhereInAReceiptVerifies() {
    byte[] encoded = honest.receipt().encode();
    for (int i = 0; i < encoded.length; i++) {
      byte[] changed = encoded.clone();
      changed[i] ^= (byte) (1 << (i % 8));
      InferenceReceipt decoded;
      try {
        decoded = InferenceReceipt.decode(changed);
      } catch (DecodingException e) {
        continue; // refused as malformed: fine
      }
      InferenceReceipt r = decoded;
      int at = i;
      assertThrows(VerificationException.class, () -> verifier.verify(r, v1, inputs, honest.outputs()), () -> "flip at byte " + at);
    }
  }

  @Test
  void rejectsManifestWithAChangedField() {
    CborValue.Map.Builder b = CborValue.Map.builder();
    Cbor.decodeMap(v1.encode()).entries().forEach((k, v) -> b.put(k, k.equals("price") ? new CborValue.Int(1_000) : v));
    ModelManifest pricier = ModelManifest.decode(Cbor.encode(b.build()));
    assertEquals(1_000, pricier.price());
    assertThrows(VerificationException.class, pricier::verify);
    assertThrows(VerificationException.class, () -> verifier.verify(honest.receipt(), pricier, inputs, honest.outputs()));
  }

  // ---- a lying node --------------------------------------------------------------------------

  private VerityClient proxyClient() {
    return VerityClient.builder(proxy.uri()).trustNodes(Set.of(node.publicKey())).build();
  }

  private static boolean isInference(String method, String path) {
    return method.equals("POST") && path.contains("/infer");
  }

  /** Changes a JSON inference response. */
  @FunctionalInterface
  private interface JsonEdit {
    ObjectNode apply(ObjectNode response) throws Exception;
  }

  /** Rewrites JSON inference responses with {@code edit}. */
  private static MaliciousProxy.Rewrite inferenceJson(JsonEdit edit) {
    return (method, path, body) -> {
      if (!isInference(method, path)) {
        return body;
      }
      return NodeHarness.JSON.writeValueAsBytes(edit.apply((ObjectNode) NodeHarness.JSON.readTree(body)));
    };
  }

  private static void nudgeFirstOutput(ObjectNode response) {
    ArrayNode data = (ArrayNode) response.path("outputs").path(model.outputName()).path("data");
    data.set(0, NodeHarness.JSON.getNodeFactory().numberNode(data.get(0).floatValue() + 0.25f));
  }

  private void assertClientRefusesInference(VerityClient client) {
    ModelRef ref = ModelRef.of(owner.address(), model.name(), "1.0.0");
    assertThrows(VerificationException.class, () -> client.infer(ref, inputs));
  }

  @Test
  void clientRefusesOutputsTheNodeChangedAfterSigning() {
    proxy.response = inferenceJson(n -> {
      nudgeFirstOutput(n);
      return n;
    });
    try (VerityClient c = proxyClient()) {
      assertClientRefusesInference(c);
    }
  }

  @Test
  void clientRefusesOutputsWithAnExtraTensor() {
    proxy.response = inferenceJson(n -> {
      ObjectNode outputs = (ObjectNode) n.path("outputs");
      outputs.set("zz_extra", outputs.path(model.outputName()).deepCopy());
      return n;
    });
    try (VerityClient c = proxyClient()) {
      assertClientRefusesInference(c);
    }
  }

  @Test
  void clientRefusesAReceiptWithAFlippedSignatureBit() {
    proxy.response = inferenceJson(n -> {
      InferenceReceipt real = InferenceReceipt.decode(Base64.getDecoder().decode(n.path("receipt").asText()));
      byte[] signature = Cbor.decodeMap(real.encode()).getBytes("signature");
      signature[10] ^= 1;
      n.put("receipt", Base64.getEncoder().encodeToString(withField(real, "signature", new CborValue.Bytes(signature)).encode()));
      return n;
    });
    try (VerityClient c = proxyClient()) {
      assertClientRefusesInference(c);
    }
  }

  @Test
  void clientRefusesFakeOutputsSignedByTheProxysOwnKey() {
    Signer impostor = Signer.generate();
    proxy.response = inferenceJson(n -> {
      InferenceReceipt real = InferenceReceipt.decode(Base64.getDecoder().decode(n.path("receipt").asText()));
      nudgeFirstOutput(n);
      NamedTensors fake = dev.verity.protocol.tensor.TensorJson.read(
          NodeHarness.JSON.writeValueAsBytes(n.path("outputs")), dev.verity.protocol.tensor.TensorLimits.DEFAULT);
      InferenceReceipt forged = InferenceReceipt.sign(impostor, real.requestId(), v1, real.inputs(), fake.cid(), real.mode(),
          real.evidence(), real.provenance(), real.startedAtMillis(), real.finishedAtMillis());
      n.put("receipt", Base64.getEncoder().encodeToString(forged.encode()));
      return n;
    });
    // Pinned explicitly, and pinned at first contact (the proxy passes /v1/node through honestly).
    try (VerityClient pinned = proxyClient(); VerityClient firstContact = VerityClient.builder(proxy.uri()).build()) {
      assertClientRefusesInference(pinned);
      assertClientRefusesInference(firstContact);
    }
  }

  @Test
  void clientRefusesAResultFromAnotherVersionThanAskedFor() {
    proxy.requestPath = p -> p.replace("/" + model.name() + "/1.0.0/infer", "/" + model.name() + "/2.0.0/infer");
    try (VerityClient c = proxyClient()) {
      VerificationException e = assertThrows(VerificationException.class,
          () -> c.infer(ModelRef.of(owner.address(), model.name(), "1.0.0"), inputs));
      assertTrue(e.getMessage().contains("instead of"), e.getMessage());
    }
  }

  @Test
  void clientRefusesAnotherManifestServedForACid() {
    proxy.response = (method, path, body) -> path.equals("/v1/manifests/" + v1.cid()) ? v2.encode() : body;
    try (VerityClient c = proxyClient()) {
      assertThrows(VerificationException.class, () -> c.manifest(v1.cid()));
      assertThrows(VerificationException.class, () -> c.infer(ModelRef.ofManifest(v1.cid()), inputs));
    }
  }

  @Test
  void clientRefusesAnotherVersionsManifestServedForAVersion() throws Exception {
    proxy.response = (method, path, body) -> {
      if (!path.equals(NodeHarness.versionPath(v1))) {
        return body;
      }
      ObjectNode n = (ObjectNode) NodeHarness.JSON.readTree(body);
      n.put("manifest_cid", v2.cid().toString());
      n.put("manifest", Base64.getEncoder().encodeToString(v2.encode()));
      return NodeHarness.JSON.writeValueAsBytes(n);
    };
    try (VerityClient c = proxyClient()) {
      assertThrows(VerificationException.class, () -> c.model(ModelRef.of(owner.address(), model.name(), "1.0.0")));
      Path out = tmp.resolve("from-liar.onnx");
      assertThrows(VerificationException.class,
          () -> c.download(ModelRef.of(owner.address(), model.name(), "1.0.0"), out, ProgressListener.NONE));
      assertFalse(Files.exists(out));
    }
  }

  @Test
  void clientRefusesADownloadWithAChangedByte() throws Exception {
    proxy.response = (method, path, body) -> {
      if (path.startsWith("/v1/blobs/")) {
        body[body.length / 2] ^= 0x10;
      }
      return body;
    };
    Path out = tmp.resolve("tampered-download.onnx");
    try (VerityClient c = proxyClient()) {
      VerificationException e = assertThrows(VerificationException.class,
          () -> c.download(ModelRef.ofManifest(v1.cid()), out, ProgressListener.NONE));
      assertTrue(e.getMessage().contains("hashes to"), e.getMessage());
    }
    assertFalse(Files.exists(out));
    // Through the honest node the same download succeeds.
    proxy.response = (method, path, body) -> body;
    try (VerityClient c = proxyClient()) {
      c.download(ModelRef.ofManifest(v1.cid()), out, ProgressListener.NONE);
    }
    assertArrayEquals(model.onnx(), Files.readAllBytes(out));
  }

  @Test
  void anHonestProxyChangesNothing() throws Exception {
    try (VerityClient c = proxyClient()) {
      InferenceResult r = c.infer(ModelRef.of(owner.address(), model.name(), "1.0.0"), inputs, VerificationMode.RECEIPT, "through-proxy");
      assertEquals(honest.outputs(), r.outputs());
      assertEquals(honest.receipt().outputs(), r.receipt().outputs());
    }
  }
}
