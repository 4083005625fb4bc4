package dev.verity.protocol;

import static dev.verity.protocol.Fixtures.NODE;
import static dev.verity.protocol.Fixtures.OWNER;
import static dev.verity.protocol.Fixtures.STRANGER;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.Cid;
import dev.verity.core.VerificationException;
import dev.verity.core.cbor.Cbor;
import dev.verity.core.cbor.CborValue;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ReceiptVerifierTest {
  private static final ModelManifest MANIFEST = Fixtures.manifest();
  private static final InferenceReceipt RECEIPT = Fixtures.receipt(MANIFEST);
  private static final NamedTensors INPUTS = Fixtures.inputs();
  private static final NamedTensors OUTPUTS = Fixtures.outputs();
  private static final ReceiptVerifier VERIFIER = ReceiptVerifier.create();

  /** The honest receipt with {@code changes}, signed anew by the node. */
  private static InferenceReceipt nodeSigned(Map<String, CborValue> changes) {
    return InferenceReceipt.decode(Fixtures.resigned(RECEIPT.encode(), InferenceReceipt.DOMAIN, changes, NODE));
  }

  /** A receipt the node signed honestly over these tensors. */
  private static InferenceReceipt receiptFor(NamedTensors inputs, NamedTensors outputs) {
    return InferenceReceipt.sign(NODE, "req-0001", MANIFEST, inputs.cid(), outputs.cid(), VerificationMode.RECEIPT,
        Fixtures.noEvidence(), Fixtures.PROVENANCE, Fixtures.STARTED, Fixtures.FINISHED);
  }

  private static String rejected(InferenceReceipt r, ModelManifest m, NamedTensors in, NamedTensors out) {
    return rejected(VERIFIER, r, m, in, out);
  }

  private static String rejected(ReceiptVerifier v, InferenceReceipt r, ModelManifest m, NamedTensors in, NamedTensors out) {
    return assertThrows(VerificationException.class, () -> v.verify(r, m, in, out)).getMessage();
  }

  private static NamedTensors outputsWith(String name, Tensor t) {
    Map<String, Tensor> m = new HashMap<>(OUTPUTS.asMap());
    m.put(name, t);
    return NamedTensors.of(m);
  }

  @Test
  void honestReceiptVerifies() throws VerificationException {
    VERIFIER.verify(RECEIPT, MANIFEST, INPUTS, OUTPUTS);
    VERIFIER.verify(RECEIPT, MANIFEST, Optional.empty(), OUTPUTS);
    VERIFIER.trustingOnly(Set.of(NODE.publicKey(), STRANGER.publicKey())).verify(RECEIPT, MANIFEST, INPUTS, OUTPUTS);
    InferenceReceipt back = InferenceReceipt.decode(RECEIPT.encode());
    assertEquals(RECEIPT, back);
    assertArrayEquals(RECEIPT.encode(), back.encode());
    assertEquals(Cid.dagCbor(RECEIPT.encode()), back.cid());
    VERIFIER.verify(back, ModelManifest.decode(MANIFEST.encode()), Transports.json(INPUTS), Transports.json(OUTPUTS));
    assertEquals(MANIFEST.cid(), back.manifest());
    assertEquals(MANIFEST.model(), back.model());
    assertEquals(Fixtures.PROVENANCE, back.provenance());
    assertEquals("req-0001", back.requestId());
  }

  @Test
  void receiptFromADelegatedManifestVerifies() {
    ModelManifest delegated = Fixtures.delegatedManifest();
    assertDoesNotThrow(() -> VERIFIER.verify(Fixtures.receipt(delegated), delegated, INPUTS, OUTPUTS));
  }

  @Test
  void rejectsReceiptWithChangedOutputValue() {
    NamedTensors changed = outputsWith("label", Tensor.ofLongs(new long[] {2}, new long[] {0, 2}));
    assertTrue(rejected(RECEIPT, MANIFEST, INPUTS, changed).contains("outputs do not match"));
  }

  @Test
  void rejectsReceiptWithChangedInput() {
    NamedTensors changed = NamedTensors.of("x", Tensor.ofFloats(new long[] {2, 3}, new float[] {5.1f, 3.5f, 1.4f, 6.2f, 2.9f, 4.4f}));
    assertTrue(rejected(RECEIPT, MANIFEST, changed, OUTPUTS).contains("inputs do not match"));
  }

  @Test
  void rejectsReceiptWhoseModelCidWasChanged() {
    CborValue other = new CborValue.Bytes(Cid.raw(new byte[] {42}).toBytes());
    InferenceReceipt edited = InferenceReceipt.decode(Fixtures.withField(RECEIPT.encode(), "model", other));
    assertTrue(rejected(edited, MANIFEST, INPUTS, OUTPUTS).contains("signature"));
    InferenceReceipt signedOverOtherModel = nodeSigned(Map.of("model", other));
    assertTrue(rejected(signedOverOtherModel, MANIFEST, INPUTS, OUTPUTS).contains("names model"));
  }

  @Test
  void rejectsReceiptCheckedAgainstAnotherVersionOfTheManifest() {
    ModelManifest repriced = Fixtures.builder().price(26).sign(OWNER);
    assertTrue(rejected(RECEIPT, repriced, INPUTS, OUTPUTS).contains("is for manifest"));
  }

  @Test
  void rejectsManifestWithAChangedFieldKeepingItsSignature() {
    ModelManifest tampered = ModelManifest.decode(Fixtures.withField(MANIFEST.encode(), "price", new CborValue.Int(0)));
    assertThrows(VerificationException.class, () -> VERIFIER.verify(RECEIPT, tampered, INPUTS, OUTPUTS));
  }

  @Test
  void rejectsReceiptWithChangedNodeKey() {
    InferenceReceipt edited = InferenceReceipt.decode(
        Fixtures.withField(RECEIPT.encode(), "node", new CborValue.Bytes(STRANGER.publicKey().toBytes())));
    assertThrows(VerificationException.class, () -> VERIFIER.verify(edited, MANIFEST, INPUTS, OUTPUTS));
  }

  @Test
  void rejectsReceiptWithAnyChangedSignatureByte() {
    byte[] signature = Cbor.decodeMap(RECEIPT.encode()).getBytes("signature");
    for (int i = 0; i < signature.length; i++) {
      byte[] s = signature.clone();
      s[i] ^= 0x20;
      InferenceReceipt edited = InferenceReceipt.decode(Fixtures.withField(RECEIPT.encode(), "signature", new CborValue.Bytes(s)));
      assertThrows(VerificationException.class, () -> VERIFIER.verify(edited, MANIFEST, INPUTS, OUTPUTS), "byte " + i);
    }
  }

  @Test
  void rejectsEveryFieldChangedAfterSigning() {
    CborValue.Map signed = Cbor.decodeMap(RECEIPT.encode());
    Map<String, CborValue> alterations = new HashMap<>();
    alterations.put("request", new CborValue.Text("req-0002"));
    alterations.put("model", new CborValue.Bytes(Cid.raw(new byte[] {1}).toBytes()));
    alterations.put("manifest", new CborValue.Bytes(Cid.dagCbor(new byte[] {(byte) 0xa0}).toBytes()));
    alterations.put("inputs", new CborValue.Bytes(NamedTensors.of(Map.of()).cid().toBytes()));
    alterations.put("outputs", new CborValue.Bytes(INPUTS.cid().toBytes()));
    alterations.put("mode", new CborValue.Text("optimistic"));
    alterations.put("evidence", CborValue.Map.builder().put("trace", new byte[32]).build());
    alterations.put("provenance", new Provenance("onnxruntime", "1.22.1", "CPUExecutionProvider", "0.1.0", "Linux", "amd64", "x").toCbor());
    alterations.put("started", new CborValue.Int(signed.getLong("started") + 1));
    alterations.put("finished", new CborValue.Int(signed.getLong("finished") + 1));
    alterations.put("node", new CborValue.Bytes(STRANGER.publicKey().toBytes()));
    byte[] sig = signed.getBytes("signature");
    sig[63] ^= 1;
    alterations.put("signature", new CborValue.Bytes(sig));
    Set<String> fields = new java.util.HashSet<>(signed.entries().keySet());
    fields.remove("v");
    assertEquals(fields, alterations.keySet(), "every receipt field needs an alteration here");
    alterations.forEach((field, value) -> {
      InferenceReceipt edited = InferenceReceipt.decode(Fixtures.withField(RECEIPT.encode(), field, value));
      assertThrows(VerificationException.class, edited::verifySignature, field);
      assertThrows(VerificationException.class, () -> VERIFIER.verify(edited, MANIFEST, INPUTS, OUTPUTS), field);
    });
  }

  @Test
  void rejectsModeTheManifestDoesNotAllow() {
    InferenceReceipt zk = nodeSigned(Map.of("mode", new CborValue.Text("zk")));
    assertTrue(rejected(zk, MANIFEST, INPUTS, OUTPUTS).contains("does not allow mode 'zk'"));
  }

  @Test
  void rejectsAllowedModeWhoseEvidenceNoVerifierChecks() throws VerificationException {
    CborValue.Map evidence = CborValue.Map.builder().put("trace", new byte[32]).build();
    InferenceReceipt optimistic = nodeSigned(Map.of("mode", new CborValue.Text("optimistic"), "evidence", evidence));
    assertTrue(rejected(optimistic, MANIFEST, INPUTS, OUTPUTS).contains("no verifier for mode 'optimistic'"));

    EvidenceVerifier needsTrace = new EvidenceVerifier() {
      @Override
      public VerificationMode mode() {
        return VerificationMode.OPTIMISTIC;
      }

      @Override
      public void verify(InferenceReceipt r, ModelManifest m, NamedTensors outputs) throws VerificationException {
        if (!r.evidence().has("trace")) {
          throw new VerificationException("optimistic receipt lacks a trace commitment");
        }
      }
    };
    ReceiptVerifier withOptimistic = VERIFIER.withEvidenceVerifier(needsTrace);
    withOptimistic.verify(optimistic, MANIFEST, INPUTS, OUTPUTS);
    withOptimistic.verify(RECEIPT, MANIFEST, INPUTS, OUTPUTS);
    InferenceReceipt noTrace = nodeSigned(Map.of("mode", new CborValue.Text("optimistic")));
    assertTrue(rejected(withOptimistic, noTrace, MANIFEST, INPUTS, OUTPUTS).contains("lacks a trace"));
  }

  @Test
  void rejectsUntrustedNodeKeyWhenTrustIsPinned() {
    ReceiptVerifier pinned = VERIFIER.trustingOnly(Set.of(STRANGER.publicKey()));
    assertTrue(rejected(pinned, RECEIPT, MANIFEST, INPUTS, OUTPUTS).contains("untrusted node key"));
  }

  @Test
  void rejectsReceiptModeReceiptCarryingEvidence() {
    InferenceReceipt withEvidence = nodeSigned(Map.of("evidence", CborValue.Map.builder().put("x", 1).build()));
    assertTrue(rejected(withEvidence, MANIFEST, INPUTS, OUTPUTS).contains("carries no evidence"));
  }

  @Test
  void rejectsOutputsMissingADeclaredTensor() {
    NamedTensors partial = NamedTensors.of("y", OUTPUTS.get("y"));
    assertTrue(rejected(receiptFor(INPUTS, partial), MANIFEST, INPUTS, partial).contains("'label' is missing"));
  }

  @Test
  void rejectsOutputsCarryingAnUndeclaredTensor() {
    NamedTensors extra = outputsWith("debug", Tensor.ofInts(new long[] {1}, new int[] {7}));
    assertTrue(rejected(receiptFor(INPUTS, extra), MANIFEST, INPUTS, extra).contains("does not declare"));
  }

  @Test
  void rejectsOutputsThatDoNotFitTheirSpecs() {
    NamedTensors wrongShape = outputsWith("y", Tensor.ofFloats(new long[] {2, 3}, new float[6]));
    assertTrue(rejected(receiptFor(INPUTS, wrongShape), MANIFEST, INPUTS, wrongShape).contains("shape [2, 3]"));
    NamedTensors wrongType = outputsWith("label", Tensor.ofInts(new long[] {2}, new int[] {0, 1}));
    assertTrue(rejected(receiptFor(INPUTS, wrongType), MANIFEST, INPUTS, wrongType).contains("type int32"));
  }

  @Test
  void rejectsInputsThatDoNotFitTheirSpecsOrAreMissing() {
    NamedTensors wrong = NamedTensors.of("x", Tensor.ofFloats(new long[] {3}, new float[3]));
    assertTrue(rejected(receiptFor(wrong, OUTPUTS), MANIFEST, wrong, OUTPUTS).contains("does not fit"));
    NamedTensors renamed = NamedTensors.of("z", INPUTS.get("x"));
    assertTrue(rejected(receiptFor(renamed, OUTPUTS), MANIFEST, renamed, OUTPUTS).contains("'x' is missing"));
  }

  @Test
  void acceptsAnyBatchSizeOnDynamicAxes() throws VerificationException {
    NamedTensors in = NamedTensors.of("x", Tensor.ofFloats(new long[] {0, 3}, new float[0]));
    NamedTensors out = NamedTensors.of(Map.of(
        "y", Tensor.ofFloats(new long[] {0, 2}, new float[0]), "label", Tensor.ofLongs(new long[] {0}, new long[0])));
    VERIFIER.verify(receiptFor(in, out), MANIFEST, in, out);
  }
}
