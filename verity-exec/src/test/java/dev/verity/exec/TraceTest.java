package dev.verity.exec;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.Hash;
import dev.verity.core.VerificationException;
import dev.verity.core.merkle.MerkleProof;
import dev.verity.onnx.OnnxModel;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Trace commitments: every step opens and verifies alone; a lie is caught at the lying step. */
class TraceTest {
  private final OnnxModel model = Fixtures.convNet(11);
  private final NamedTensors inputs = Fixtures.images(2, 12);

  private Execution honest() {
    try (CanonicalExecutor ex = CanonicalExecutor.create(model)) {
      return ex.runTraced(inputs);
    }
  }

  /** A worker that adds {@code delta} to one element of step {@code lie}'s output. */
  private Execution lying(int lie, float delta) {
    try (CanonicalExecutor ex = CanonicalExecutor.create(model)) {
      return ex.execute(inputs, true, (step, out) -> {
        if (step != lie) {
          return out;
        }
        float[] f = out.f.clone();
        f[f.length / 2] += delta;
        return Value.ofFloats(out.shape, f);
      });
    }
  }

  @Test
  void everyStepOpensAndVerifiesAgainstTheRoot() {
    Execution e = honest();
    Trace t = e.trace();
    assertEquals(model.graph().nodes().size(), t.size());
    for (int i = 0; i < t.size(); i++) {
      StepOpening o = t.open(i);
      assertEquals(model.graph().nodes().get(i).opType(), o.step().opType());
      assertDoesNotThrow(() -> Trace.verifyStep(model, t.root(), o), "step " + i);
    }
    Hash outputHash = TraceStep.tensorHash(e.outputs().get("p"));
    assertEquals(outputHash, t.step(t.size() - 1).output(), "the last step commits the output");
  }

  @Test
  void theIndexedCheckTakesWeightsFromTheModelAndAgreesWithTheFullCheck() {
    Execution e = honest();
    Trace t = e.trace();
    Trace.ModelIndex index = Trace.index(model);
    Execution liar = lying(2, 0.5f);
    for (int i = 0; i < t.size(); i++) {
      StepOpening full = t.open(i);
      java.util.List<String> names = model.graph().nodes().get(i).inputs().stream().filter(n -> !n.isEmpty()).toList();
      java.util.List<dev.verity.protocol.tensor.Tensor> opened = new java.util.ArrayList<>();
      for (int k = 0; k < names.size(); k++) {
        if (index.initializerHash(names.get(k)).isEmpty()) {
          opened.add(full.inputs().get(k));
        }
      }
      StepOpening partial = new StepOpening(full.step(), full.proof(), opened);
      assertDoesNotThrow(() -> Trace.verifyStep(index, t.root(), partial), "step " + i);
      if (opened.size() != full.inputs().size()) {
        assertThrows(dev.verity.core.VerificationException.class, () -> Trace.verifyStep(index, t.root(), full),
            "step " + i + " with its weights opened too does not fit the indexed form");
      }
      StepOpening lie = liar.trace().open(i);
      if (i == 2) {
        java.util.List<dev.verity.protocol.tensor.Tensor> lieOpened = new java.util.ArrayList<>();
        for (int k = 0; k < names.size(); k++) {
          if (index.initializerHash(names.get(k)).isEmpty()) {
            lieOpened.add(lie.inputs().get(k));
          }
        }
        StepOpening lying = new StepOpening(lie.step(), lie.proof(), lieOpened);
        assertThrows(dev.verity.core.VerificationException.class,
            () -> Trace.verifyStep(index, liar.trace().root(), lying));
      }
    }
  }

  @Test
  void stepsChainByHash() {
    Trace t = honest().trace();
    for (int i = 1; i < t.size(); i++) {
      assertTrue(t.step(i).inputs().contains(t.step(i - 1).output()),
          "step " + i + " reads the tensor step " + (i - 1) + " wrote");
    }
  }

  @Test
  void aTamperedIntermediateIsDetectedAtTheTamperedStep() {
    Trace good = honest().trace();
    for (int lie = 0; lie < good.size(); lie++) {
      Trace bad = lying(lie, 0.25f).trace();
      assertNotEquals(good.root(), bad.root(), "lie at step " + lie);
      int firstDifferent = -1;
      for (int i = 0; i < good.size(); i++) {
        if (!Arrays.equals(good.step(i).leaf(), bad.step(i).leaf())) {
          firstDifferent = i;
          break;
        }
      }
      assertEquals(lie, firstDifferent, "the traces first disagree at the lying step");
      Trace cheat = bad;
      int at = lie;
      VerificationException ex = assertThrows(VerificationException.class,
          () -> Trace.verifyStep(model, cheat.root(), cheat.open(at)));
      assertTrue(ex.getMessage().contains("step " + lie), ex.getMessage());
      for (int i = 0; i < bad.size(); i++) {
        if (i != lie) {
          int k = i;
          assertDoesNotThrow(() -> Trace.verifyStep(model, cheat.root(), cheat.open(k)),
              "honest step " + i + " of a trace lying at " + lie);
        }
      }
    }
  }

  @Test
  void rejectsAnOpeningWhoseInputDoesNotMatchTheCommittedHash() {
    Trace t = honest().trace();
    StepOpening o = t.open(2);
    List<Tensor> in = new ArrayList<>(o.inputs());
    float[] f = in.get(0).toFloats();
    f[0] = Math.nextUp(f[0]);
    in.set(0, Tensor.ofFloats(in.get(0).shape(), f));
    VerificationException ex = assertThrows(VerificationException.class,
        () -> Trace.verifyStep(model, t.root(), new StepOpening(o.step(), o.proof(), in)));
    assertTrue(ex.getMessage().contains("does not hash"), ex.getMessage());
  }

  @Test
  void rejectsAStepClaimingDifferentParameters() {
    Trace t = honest().trace();
    StepOpening o = t.open(0);
    List<Tensor> in = new ArrayList<>(o.inputs());
    float[] w = in.get(1).toFloats();
    w[3] = -w[3];
    in.set(1, Tensor.ofFloats(in.get(1).shape(), w));
    List<Hash> hashes = new ArrayList<>(o.step().inputs());
    hashes.set(1, TraceStep.tensorHash(in.get(1)));
    TraceStep forged = new TraceStep(0, o.step().node(), o.step().opType(), hashes,
        o.step().output());
    assertThrows(VerificationException.class,
        () -> Trace.verifyStep(model, t.root(), new StepOpening(forged, o.proof(), in)));
  }

  @Test
  void rejectsAnOpeningUnderAnotherRootOrWithAnotherStepsProof() {
    Trace t = honest().trace();
    StepOpening o = t.open(4);
    assertThrows(VerificationException.class,
        () -> Trace.verifyStep(model, Hash.of(new byte[] {1}), o));
    MerkleProof other = t.open(5).proof();
    assertThrows(VerificationException.class,
        () -> Trace.verifyStep(model, t.root(), new StepOpening(o.step(), other, o.inputs())));
    TraceStep renamed = new TraceStep(4, "someone else", o.step().opType(), o.step().inputs(),
        o.step().output());
    assertThrows(VerificationException.class,
        () -> Trace.verifyStep(model, t.root(), new StepOpening(renamed, o.proof(), o.inputs())));
  }
}
