package dev.verity.zk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.Cid;
import dev.verity.core.DecodingException;
import dev.verity.core.VerificationException;
import dev.verity.core.cbor.CborValue;
import dev.verity.core.crypto.Signer;
import dev.verity.models.BuiltinModels;
import dev.verity.models.ExampleModel;
import dev.verity.onnx.ModelSignatures;
import dev.verity.onnx.OnnxModel;
import dev.verity.onnx.OnnxModelInfo;
import dev.verity.onnx.OnnxReader;
import dev.verity.onnx.OnnxTensorData;
import dev.verity.onnx.OnnxWriter;
import dev.verity.protocol.InferenceReceipt;
import dev.verity.protocol.ModelManifest;
import dev.verity.protocol.Provenance;
import dev.verity.protocol.ReceiptVerifier;
import dev.verity.protocol.VerificationMode;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import java.io.IOException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Receipts in mode zk through the protocol's {@link ReceiptVerifier} with {@link
 * ZkEvidenceVerifier}: honest ones verify without the plain inputs; every change a cheating node
 * could make, re-signed with its own key, is rejected.
 */
class ZkReceiptTest {
  static final Signer NODE = Signer.fromSeed(new byte[32]);
  static final Signer OWNER = Signer.fromSeed(filled(1));
  static final Provenance PROVENANCE = new Provenance("verity-zk", "1", "cpu", "0.1.0", "Linux", "amd64", "test");
  static final Map<Cid, byte[]> FILES = new HashMap<>();
  static final ZkEvidenceVerifier ZK = ZkEvidenceVerifier.create(cid -> {
    byte[] b = FILES.get(cid);
    if (b == null) {
      throw new IOException("no file for " + cid);
    }
    return b;
  });
  static final ReceiptVerifier VERIFIER = ReceiptVerifier.create().withEvidenceVerifier(ZK);

  static ExampleModel cancer;
  static ModelManifest manifest;
  static NamedTensors inputs;
  static Blinding blinding;
  static ModelProver.Proved proved;
  static InferenceReceipt receipt;

  static byte[] filled(int b) {
    byte[] x = new byte[32];
    java.util.Arrays.fill(x, (byte) b);
    return x;
  }

  static ModelManifest manifestOf(byte[] onnx, String repo) {
    OnnxModelInfo info = OnnxReader.readInfo(onnx);
    Cid cid = Cid.raw(onnx);
    FILES.put(cid, onnx);
    return ModelManifest.builder().owner(OWNER.publicKey()).repository(repo).version("1.0.0").model(cid, onnx.length)
        .opsets(ModelSignatures.opsets(info)).inputs(ModelSignatures.inputs(info)).outputs(ModelSignatures.outputs(info))
        .task("classification").license("MIT").description("test").tags(List.of()).price(0)
        .modes(EnumSet.of(VerificationMode.RECEIPT, VerificationMode.ZK)).createdAtMillis(1_750_000_000_000L).sign(OWNER);
  }

  static InferenceReceipt sign(ModelManifest m, Cid inputsCid, NamedTensors outputs, CborValue.Map evidence) {
    return InferenceReceipt.sign(NODE, "zk-req-1", m, inputsCid, outputs.cid(), VerificationMode.ZK, evidence,
        PROVENANCE, 1_750_000_060_000L, 1_750_000_060_100L);
  }

  @BeforeAll
  static void prove() {
    cancer = BuiltinModels.byName(BuiltinModels.BREAST_CANCER).orElseThrow();
    manifest = manifestOf(cancer.onnx(), "breast-cancer");
    ExampleModel.Sample s = cancer.samples().get(0);
    inputs = NamedTensors.of(cancer.inputName(), Tensor.ofFloats(s.shape(), s.values()));
    blinding = Blinding.random();
    proved = ModelProver.of(OnnxCompiler.compile(cancer.cid(), cancer.onnx())).prove(inputs, blinding);
    receipt = sign(manifest, ZkEvidence.inputsCid(proved.evidence().input()), proved.outputs(), proved.evidence().toCbor());
  }

  private static void rejected(InferenceReceipt r, NamedTensors outputs, String expected) {
    VerificationException e = assertThrows(VerificationException.class,
        () -> VERIFIER.verify(r, manifest, Optional.empty(), outputs));
    assertTrue(e.getMessage().contains(expected), () -> "'" + e.getMessage() + "' should mention '" + expected + "'");
  }

  @Test
  void honestReceiptVerifiesWithoutThePlainInputs() throws Exception {
    VERIFIER.verify(receipt, manifest, Optional.empty(), proved.outputs());
    float[] p = proved.outputs().get(cancer.outputName()).toFloats();
    assertEquals(cancer.samples().get(0).label(), p[1] > p[0] ? 1 : 0);
  }

  @Test
  void theReceiptNamesTheCommitmentNotThePlainInputs() {
    assertNotEquals(inputs.cid(), receipt.inputs());
    // a verifier given the plain inputs finds they are not what the receipt names
    assertThrows(VerificationException.class, () -> VERIFIER.verify(receipt, manifest, inputs, proved.outputs()));
    // and a node that names the plain inputs instead is rejected
    rejected(sign(manifest, inputs.cid(), proved.outputs(), proved.evidence().toCbor()), proved.outputs(),
        "input commitment");
  }

  @Test
  void theHolderOpensTheCommitmentAndNobodyElseCan() throws Exception {
    ZK.verifyOpening(receipt, new InputOpening(inputs, blinding));
    ZK.verifyOpening(receipt, InputOpening.decode(new InputOpening(inputs, blinding).encode()));
    assertThrows(VerificationException.class, () -> ZK.verifyOpening(receipt, new InputOpening(inputs, Blinding.random())));
    ExampleModel.Sample other = cancer.samples().get(1);
    NamedTensors otherInputs = NamedTensors.of(cancer.inputName(), Tensor.ofFloats(other.shape(), other.values()));
    assertThrows(VerificationException.class, () -> ZK.verifyOpening(receipt, new InputOpening(otherInputs, blinding)));
  }

  @Test
  void rejectsChangedOutputs() {
    float[] p = proved.outputs().get(cancer.outputName()).toFloats();
    p[0] = 1 - p[0];
    NamedTensors forged = NamedTensors.of(cancer.outputName(), Tensor.ofFloats(new long[] {1, 2}, p));
    rejected(sign(manifest, receipt.inputs(), forged, proved.evidence().toCbor()), forged, "not the ones the proof");
  }

  @Test
  void rejectsChangedProvenIntegersEvenWithMatchingOutputs() {
    long[] y = proved.evidence().output();
    long t = y[0];
    y[0] = y[1];
    y[1] = t;
    CborValue.Map ev = withField(proved.evidence().toCbor(), "output", ints(y));
    NamedTensors outputs = OnnxCompiler.compile(cancer.cid(), cancer.onnx()).outputs(y);
    rejected(sign(manifest, receipt.inputs(), outputs, ev), outputs, "");
  }

  @Test
  void rejectsAnotherInputCommitment() {
    InputCommitment other = InputCommitment.fromBytes(filled(7));
    CborValue.Map ev = withField(proved.evidence().toCbor(), "input", new CborValue.Bytes(other.toBytes()));
    rejected(sign(manifest, ZkEvidence.inputsCid(other), proved.outputs(), ev), proved.outputs(), "");
  }

  @Test
  void rejectsProofBytesChangedAnywhere() {
    byte[] proof = proved.evidence().proof().encode();
    int step = Math.max(1, proof.length / 40);
    for (int at = 0; at < proof.length; at += step) {
      byte[] bad = proof.clone();
      bad[at] ^= 0x10;
      CborValue.Map ev = withField(proved.evidence().toCbor(), "proof", new CborValue.Bytes(bad));
      rejected(sign(manifest, receipt.inputs(), proved.outputs(), ev), proved.outputs(), "");
    }
  }

  @Test
  void rejectsMalformedEvidence() {
    CborValue.Map good = proved.evidence().toCbor();
    rejected(sign(manifest, receipt.inputs(), proved.outputs(), CborValue.Map.builder().build()), proved.outputs(), "malformed");
    rejected(sign(manifest, receipt.inputs(), proved.outputs(), withField(good, "v", new CborValue.Int(2))), proved.outputs(),
        "malformed");
    rejected(sign(manifest, receipt.inputs(), proved.outputs(), withField(good, "extra", new CborValue.Int(1))),
        proved.outputs(), "malformed");
    rejected(sign(manifest, receipt.inputs(), proved.outputs(), withField(good, "key", new CborValue.Bytes(new byte[31]))),
        proved.outputs(), "malformed");
  }

  @Test
  void aProofForOneModelNeverVerifiesForAnother() {
    ExampleModel digits = BuiltinModels.byName(BuiltinModels.DIGITS_CNN).orElseThrow();
    ModelManifest other = manifestOf(digits.onnx(), "digits");
    InferenceReceipt r = InferenceReceipt.sign(NODE, "zk-req-2", other, receipt.inputs(), proved.outputs().cid(),
        VerificationMode.ZK, proved.evidence().toCbor(), PROVENANCE, 1, 2);
    // the full check already fails on the output's shape; the evidence alone fails on the key
    assertThrows(VerificationException.class, () -> VERIFIER.verify(r, other, Optional.empty(), proved.outputs()));
    VerificationException e = assertThrows(VerificationException.class, () -> ZK.verify(r, other, proved.outputs()));
    assertTrue(e.getMessage().contains("verifying key"), e.getMessage());
  }

  @Test
  void rejectsTheProofUnderAModelWithOneWeightChanged() throws Exception {
    OnnxModel m = OnnxReader.read(cancer.onnx());
    List<OnnxTensorData> inits = new ArrayList<>();
    for (OnnxTensorData t : m.graph().initializers()) {
      if (t.name().equals("fc2.weight")) {
        float[] w = t.floats();
        w[3] += 0.01f;
        t = OnnxTensorData.ofFloats(t.name(), t.dims(), w);
      }
      inits.add(t);
    }
    var g = m.graph();
    OnnxModel changed = new OnnxModel(m.irVersion(), m.opsetImports(), m.producerName(), m.producerVersion(), m.domain(),
        m.modelVersion(), m.docString(), new dev.verity.onnx.OnnxGraph(g.name(), g.nodes(), inits, g.inputs(), g.outputs(),
        g.valueInfo()), m.metadata());
    byte[] bytes = OnnxWriter.write(changed);
    ModelManifest other = manifestOf(bytes, "breast-cancer-changed");
    InferenceReceipt r = InferenceReceipt.sign(NODE, "zk-req-3", other, receipt.inputs(), proved.outputs().cid(),
        VerificationMode.ZK, proved.evidence().toCbor(), PROVENANCE, 1, 2);
    assertThrows(VerificationException.class, () -> VERIFIER.verify(r, other, Optional.empty(), proved.outputs()));
    // the changed model's own key, put into the evidence, does not rescue the proof
    VerifyingKey changedKey = ModelProver.of(OnnxCompiler.compile(Cid.raw(bytes), bytes)).verifyingKey();
    CborValue.Map ev = withField(proved.evidence().toCbor(), "key", new CborValue.Bytes(changedKey.digest().toBytes()));
    InferenceReceipt r2 = InferenceReceipt.sign(NODE, "zk-req-4", other, receipt.inputs(), proved.outputs().cid(),
        VerificationMode.ZK, ev, PROVENANCE, 1, 2);
    assertThrows(VerificationException.class, () -> VERIFIER.verify(r2, other, Optional.empty(), proved.outputs()));
  }

  @Test
  void rejectsAModelFileThatDoesNotMatchItsCid() {
    byte[] wrong = BuiltinModels.byName(BuiltinModels.DIGITS_CNN).orElseThrow().onnx();
    ZkEvidenceVerifier lying = ZkEvidenceVerifier.create(cid -> wrong);
    VerificationException e = assertThrows(VerificationException.class,
        () -> ReceiptVerifier.create().withEvidenceVerifier(lying).verify(receipt, manifest, Optional.empty(), proved.outputs()));
    assertTrue(e.getMessage().contains("hashes to"), e.getMessage());
  }

  @Test
  void evidenceRoundTripsAndRejectsEveryTruncation() {
    CborValue.Map m = proved.evidence().toCbor();
    assertEquals(proved.evidence(), ZkEvidence.fromCbor(m));
    byte[] bytes = dev.verity.core.cbor.Cbor.encode(m);
    for (int cut = 1; cut < bytes.length; cut += Math.max(1, bytes.length / 50)) {
      byte[] shorter = java.util.Arrays.copyOf(bytes, bytes.length - cut);
      assertThrows(DecodingException.class, () -> ZkEvidence.fromCbor(dev.verity.core.cbor.Cbor.decodeMap(shorter)));
    }
  }

  static CborValue.Map withField(CborValue.Map m, String key, CborValue value) {
    CborValue.Map.Builder b = CborValue.Map.builder();
    m.entries().forEach((k, v) -> b.put(k, k.equals(key) ? value : v));
    if (!m.has(key)) {
      b.put(key, value);
    }
    return b.build();
  }

  static CborValue ints(long[] y) {
    List<CborValue> out = new ArrayList<>();
    for (long v : y) {
      out.add(new CborValue.Int(v));
    }
    return new CborValue.Array(out);
  }
}
