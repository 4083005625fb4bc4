package dev.verity.node.optimistic;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.Cid;
import dev.verity.core.Hash;
import dev.verity.core.VerificationException;
import dev.verity.exec.CanonicalExecutor;
import dev.verity.exec.Execution;
import dev.verity.hub.BlobStore;
import dev.verity.ledger.DisputeReferee;
import dev.verity.ledger.TraceCommitment;
import dev.verity.models.BuiltinModels;
import dev.verity.models.ExampleModel;
import dev.verity.onnx.ModelSignatures;
import dev.verity.onnx.OnnxModel;
import dev.verity.onnx.OnnxModelInfo;
import dev.verity.onnx.OnnxReader;
import dev.verity.protocol.ModelManifest;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/**
 * The referee against hostile openings and blobs: every honest opening verifies; every altered,
 * truncated or random one is a guilty verdict with a reason (never a crash or a hang); a blob that
 * does not match its CID is no verdict at all.
 */
class StepProofTest {
  private static final ExampleModel MODEL = BuiltinModels.all().get(1);
  private static final Map<Cid, byte[]> BLOBS = new HashMap<>();
  private static final OnnxModel ONNX = OnnxReader.read(MODEL.onnx());
  private static final Cid MANIFEST;
  private static final TraceCommitment TRACE;
  private static final LocalTrace LOCAL;
  private static final ExecReferee REFEREE = new ExecReferee(cid -> {
    byte[] b = BLOBS.get(cid);
    if (b == null) {
      throw new IOException("missing " + cid);
    }
    return b;
  });

  static {
    Cid modelCid = BlobStore.cidOf(MODEL.onnx());
    BLOBS.put(modelCid, MODEL.onnx());
    OnnxModelInfo info = OnnxReader.readInfo(MODEL.onnx());
    dev.verity.core.crypto.Signer owner = OptimisticNetwork.key(2);
    ModelManifest m = ModelManifest.builder().owner(owner.publicKey()).repository("steps").version("1.0.0")
        .opsets(ModelSignatures.opsets(info)).inputs(ModelSignatures.inputs(info)).outputs(ModelSignatures.outputs(info))
        .model(modelCid, MODEL.onnx().length).sign(owner);
    MANIFEST = m.cid();
    BLOBS.put(MANIFEST, m.encode());
    ExampleModel.Sample s = BuiltinModels.heldOut(MODEL.name()).get(0);
    NamedTensors in = NamedTensors.of(MODEL.inputName(), Tensor.ofFloats(s.shape(), s.values()));
    Execution e;
    try (CanonicalExecutor ex = CanonicalExecutor.create(ONNX, 1)) {
      e = ex.runTraced(in);
    }
    BLOBS.put(in.cid(), in.canonicalBytes());
    BLOBS.put(e.outputs().cid(), e.outputs().canonicalBytes());
    LOCAL = LocalTrace.of(e);
    TRACE = new TraceCommitment(LOCAL.root(), LOCAL.size(), in.cid(), e.outputs().cid());
  }

  @Test
  void everyHonestOpeningVerifies() throws Exception {
    for (int i = 0; i < LOCAL.size(); i++) {
      REFEREE.verifyStep(MANIFEST, TRACE, i, StepProof.forStep(LOCAL, ONNX, i));
    }
    REFEREE.verifyOutputs(MANIFEST, TRACE, StepProof.forOutputs(LOCAL, ONNX));
    assertTrue(REFEREE.steps(MANIFEST) == LOCAL.size());
  }

  @Test
  void anOpeningOfAnotherStepOrUnderAnotherRootIsGuilty() {
    byte[] two = StepProof.forStep(LOCAL, ONNX, 2);
    VerificationException e = assertThrows(VerificationException.class,
        () -> REFEREE.verifyStep(MANIFEST, TRACE, 3, two));
    assertTrue(e.getMessage().contains("step 2"), e.getMessage());
    TraceCommitment other = new TraceCommitment(Hash.of(new byte[1]), TRACE.steps(), TRACE.inputs(), TRACE.outputs());
    assertThrows(VerificationException.class, () -> REFEREE.verifyStep(MANIFEST, other, 2, two));
    TraceCommitment shorter = new TraceCommitment(TRACE.root(), TRACE.steps() - 1, TRACE.inputs(), TRACE.outputs());
    assertThrows(VerificationException.class, () -> REFEREE.verifyStep(MANIFEST, shorter, 2, two));
    assertThrows(VerificationException.class, () -> REFEREE.verifyOutputs(MANIFEST, TRACE, two));
  }

  @Test
  void missingOrMismatchingBlobsAreNoVerdict() {
    Cid absent = Cid.raw(new byte[] {1, 2, 3});
    assertThrows(DisputeReferee.Unavailable.class, () -> REFEREE.steps(absent));
    Cid wrong = Cid.dagCbor(new byte[] {7});
    BLOBS.put(wrong, new byte[] {(byte) 0xa0});
    TraceCommitment badInputs = new TraceCommitment(TRACE.root(), TRACE.steps(), wrong, TRACE.outputs());
    assertThrows(DisputeReferee.Unavailable.class,
        () -> REFEREE.verifyStep(MANIFEST, badInputs, 0, StepProof.forStep(LOCAL, ONNX, 0)));
    TraceCommitment noOutputs = new TraceCommitment(TRACE.root(), TRACE.steps(), TRACE.inputs(), absent);
    assertThrows(DisputeReferee.Unavailable.class,
        () -> REFEREE.verifyOutputs(MANIFEST, noOutputs, StepProof.forOutputs(LOCAL, ONNX)));
  }

  @Property(tries = 150)
  void alteredOpeningsAreGuilty(@ForAll @IntRange(min = 0, max = 6) int stepRaw, @ForAll long seed) {
    int step = stepRaw % LOCAL.size();
    byte[] good = StepProof.forStep(LOCAL, ONNX, step);
    Random r = new Random(seed);
    byte[] bad = good.clone();
    int at = r.nextInt(bad.length);
    bad[at] ^= (byte) (1 + r.nextInt(255));
    assertThrows(VerificationException.class, () -> REFEREE.verifyStep(MANIFEST, TRACE, step, bad));
    byte[] cut = java.util.Arrays.copyOf(good, r.nextInt(good.length));
    assertThrows(VerificationException.class, () -> REFEREE.verifyStep(MANIFEST, TRACE, step, cut));
  }

  @Property(tries = 100)
  void alteredOutputOpeningsAreGuilty(@ForAll long seed) {
    byte[] good = StepProof.forOutputs(LOCAL, ONNX);
    Random r = new Random(seed);
    byte[] bad = good.clone();
    bad[r.nextInt(bad.length)] ^= (byte) (1 + r.nextInt(255));
    assertThrows(VerificationException.class, () -> REFEREE.verifyOutputs(MANIFEST, TRACE, bad));
  }

  @Property(tries = 100)
  void randomBytesAreGuiltyNeverACrash(@ForAll @Size(min = 1, max = 400) byte[] junk) {
    assertThrows(VerificationException.class, () -> REFEREE.verifyStep(MANIFEST, TRACE, 1, junk));
    assertThrows(VerificationException.class, () -> REFEREE.verifyOutputs(MANIFEST, TRACE, junk));
  }
}
