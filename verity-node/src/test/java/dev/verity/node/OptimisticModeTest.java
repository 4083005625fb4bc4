package dev.verity.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.Cid;
import dev.verity.core.Hash;
import dev.verity.core.VerificationException;
import dev.verity.core.crypto.KeyFile;
import dev.verity.core.crypto.Signer;
import dev.verity.exec.CanonicalExecutor;
import dev.verity.exec.Execution;
import dev.verity.models.BuiltinModels;
import dev.verity.models.ExampleModel;
import dev.verity.onnx.Dim;
import dev.verity.onnx.ElementType;
import dev.verity.onnx.OnnxModel;
import dev.verity.onnx.OnnxReader;
import dev.verity.onnx.OnnxWriter;
import dev.verity.protocol.InferenceReceipt;
import dev.verity.protocol.ModelManifest;
import dev.verity.protocol.OptimisticEvidence;
import dev.verity.protocol.VerificationMode;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import dev.verity.sdk.InferenceResult;
import dev.verity.sdk.ModelRef;
import dev.verity.sdk.OptimisticRecomputation;
import dev.verity.sdk.ProgressListener;
import dev.verity.sdk.Publication;
import dev.verity.sdk.VerityApiException;
import dev.verity.sdk.VerityClient;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mode optimistic through a real node over HTTP: the outputs are the canonical executor's bit for
 * bit, the receipt commits to the trace, inputs and outputs can be fetched by the receipt's CIDs,
 * a recomputing client accepts honest receipts and rejects altered ones, and a model outside the
 * canonical operator set is refused at publish time naming the operator.
 */
class OptimisticModeTest {
  @TempDir static Path tmp;
  static VerityNode node;
  static Signer nodeKey;
  static Signer owner;
  static final Map<ExampleModel, ModelManifest> published = new LinkedHashMap<>();
  static final Map<ExampleModel, byte[]> files = new LinkedHashMap<>();

  @BeforeAll
  static void publish() throws Exception {
    node = VerityNode.start(NodeConfig.defaults().withDataDir(tmp.resolve("node")).withPort(0)
        .withOptimistic(OptimisticSettings.defaults().withThreads(2)));
    nodeKey = KeyFile.read(tmp.resolve("node").resolve("node.key"));
    owner = Signer.generate();
    try (VerityClient c = NodeHarness.client(node, owner)) {
      for (ExampleModel m : BuiltinModels.all()) {
        Path file = NodeHarness.write(tmp.resolve("models"), m.name() + ".onnx", m.onnx());
        files.put(m, m.onnx());
        published.put(m, c.publish(file, Publication.of(m.name(), "1.0.0")
            .withModes(EnumSet.of(VerificationMode.RECEIPT, VerificationMode.OPTIMISTIC)), ProgressListener.NONE));
      }
    }
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
  }

  static VerityClient recomputingClient() {
    return VerityClient.builder(node.uri()).signer(Signer.generate()).trustNodes(Set.of(node.publicKey()))
        .recomputeOptimistic(true).build();
  }

  @Test
  void optimisticOutputsAreTheCanonicalExecutorsBitForBitWithTheTraceCommitted() throws Exception {
    try (VerityClient c = NodeHarness.client(node, Signer.generate())) {
      for (ExampleModel m : BuiltinModels.all()) {
        NamedTensors in = NodeHarness.sampleInputs(m, 1);
        InferenceResult r = c.infer(ModelRef.ofManifest(published.get(m).cid()), in, VerificationMode.OPTIMISTIC, "opt-1");
        Execution expected;
        try (CanonicalExecutor ex = CanonicalExecutor.create(OnnxReader.read(files.get(m)))) {
          expected = ex.runTraced(in);
        }
        assertEquals(expected.outputs().cid(), r.outputs().cid(), m.name());
        assertEquals(VerificationMode.OPTIMISTIC, r.receipt().mode());
        OptimisticEvidence ev = OptimisticEvidence.of(r.receipt());
        assertEquals(expected.trace().root(), ev.trace());
        assertEquals(expected.trace().size(), ev.steps());
        assertEquals(in.cid(), r.receipt().inputs());
        assertEquals(CanonicalRuns.ENGINE, r.receipt().provenance().engine());
      }
    }
  }

  @Test
  void inputsAndOutputsOfAnOptimisticJobCanBeFetchedByTheReceiptsCids() throws Exception {
    ExampleModel m = BuiltinModels.all().get(0);
    try (VerityClient c = NodeHarness.client(node, Signer.generate())) {
      NamedTensors in = NodeHarness.sampleInputs(m, 1);
      InferenceResult r = c.infer(ModelRef.ofManifest(published.get(m).cid()), in, VerificationMode.OPTIMISTIC, "opt-2");
      try (VerityClient anonymous = NodeHarness.anonymousClient(node)) {
        assertArrayEquals(in.canonicalBytes(), anonymous.blob(r.receipt().inputs()));
        assertArrayEquals(r.outputs().canonicalBytes(), anonymous.blob(r.receipt().outputs()));
      }
      Cid unknown = Cid.dagCbor(new byte[] {(byte) 0xa0});
      NodeHarness.assertProblem(NodeHarness.get(node.uri(), "/v1/blobs/" + unknown), 404);
    }
  }

  @Test
  void recomputingClientAcceptsHonestOptimisticReceipts() throws Exception {
    try (VerityClient c = recomputingClient()) {
      for (ExampleModel m : BuiltinModels.all()) {
        InferenceResult r = c.infer(ModelRef.ofManifest(published.get(m).cid()), NodeHarness.sampleInputs(m, 1),
            VerificationMode.OPTIMISTIC, "opt-3");
        c.verify(r.receipt(), r.outputs());
      }
    }
  }

  @Test
  void recomputationRejectsReceiptWithWrongTraceRootOrChangedOutput() throws Exception {
    ExampleModel m = BuiltinModels.all().get(0);
    ModelManifest manifest = published.get(m);
    try (VerityClient c = NodeHarness.client(node, Signer.generate())) {
      NamedTensors in = NodeHarness.sampleInputs(m, 1);
      InferenceResult r = c.infer(ModelRef.ofManifest(manifest.cid()), in, VerificationMode.OPTIMISTIC, "opt-4");
      OptimisticRecomputation verifier = OptimisticRecomputation.create(c::blob, c::blob);
      verifier.verify(r.receipt(), manifest, r.outputs());
      OptimisticEvidence honest = OptimisticEvidence.of(r.receipt());

      InferenceReceipt wrongRoot = resign(r.receipt(), manifest, r.receipt().outputs(),
          new OptimisticEvidence(Hash.of(new byte[] {1}), honest.steps()));
      VerificationException e1 = assertThrows(VerificationException.class,
          () -> verifier.verify(wrongRoot, manifest, r.outputs()));
      assertTrue(e1.getMessage().contains("trace root"), e1.getMessage());

      float[] v = r.outputs().get(r.outputs().names().iterator().next()).toFloats().clone();
      v[0] += 1f;
      String name = r.outputs().names().iterator().next();
      NamedTensors changed = NamedTensors.of(name, Tensor.ofFloats(r.outputs().get(name).shape(), v));
      InferenceReceipt wrongOut = resign(r.receipt(), manifest, changed.cid(), honest);
      VerificationException e2 = assertThrows(VerificationException.class,
          () -> verifier.verify(wrongOut, manifest, changed));
      assertTrue(e2.getMessage().contains("outputs"), e2.getMessage());
    }
  }

  @Test
  void structureVerifierRejectsMalformedOptimisticEvidence() throws Exception {
    ExampleModel m = BuiltinModels.all().get(0);
    ModelManifest manifest = published.get(m);
    try (VerityClient c = NodeHarness.client(node, Signer.generate())) {
      InferenceResult r = c.infer(ModelRef.ofManifest(manifest.cid()), NodeHarness.sampleInputs(m, 1),
          VerificationMode.OPTIMISTIC, "opt-5");
      InferenceReceipt bad = InferenceReceipt.sign(nodeKey, r.receipt().requestId(), manifest, r.receipt().inputs(),
          r.receipt().outputs(), VerificationMode.OPTIMISTIC,
          dev.verity.core.cbor.CborValue.Map.builder().put("trace", new byte[31]).put("steps", 3).build(),
          r.receipt().provenance(), 0, 1);
      VerificationException e = assertThrows(VerificationException.class, () -> c.verify(bad, r.outputs()));
      assertTrue(e.getMessage().contains("malformed"), e.getMessage());
    }
  }

  @Test
  void modelWithAnOperatorOutsideTheCanonicalSetIsRefusedForOptimisticAtPublish() throws Exception {
    OnnxModel erf = OnnxModel.builder()
        .input("x", ElementType.FLOAT, Dim.symbolic("N"), Dim.of(3))
        .output("y", ElementType.FLOAT, Dim.symbolic("N"), Dim.of(3))
        .node("Erf", List.of("x"), List.of("y"))
        .build();
    Path file = NodeHarness.write(tmp.resolve("models"), "erf.onnx", OnnxWriter.write(erf));
    try (VerityClient c = NodeHarness.client(node, owner)) {
      VerityApiException e = assertThrows(VerityApiException.class, () -> c.publish(file, Publication.of("erf", "1.0.0")
          .withModes(EnumSet.of(VerificationMode.OPTIMISTIC)), ProgressListener.NONE));
      assertEquals(400, e.status());
      assertTrue(e.getMessage().contains("Erf") && e.getMessage().contains("optimistic"), e.getMessage());
      // the same file is fine without the mode
      c.publish(file, Publication.of("erf", "1.0.0"), ProgressListener.NONE);
    }
  }

  private static InferenceReceipt resign(InferenceReceipt r, ModelManifest m, Cid outputs, OptimisticEvidence ev) {
    return InferenceReceipt.sign(nodeKey, r.requestId(), m, r.inputs(), outputs, VerificationMode.OPTIMISTIC,
        ev.toCbor(), r.provenance(), r.startedAtMillis(), r.finishedAtMillis());
  }
}
