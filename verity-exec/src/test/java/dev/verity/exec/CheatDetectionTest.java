package dev.verity.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.exec.TraceDispute.Party;
import dev.verity.exec.TraceDispute.Ruling;
import dev.verity.exec.TraceDispute.Stage;
import dev.verity.models.ExampleModel;
import dev.verity.onnx.OnnxModel;
import dev.verity.protocol.tensor.NamedTensors;
import java.util.EnumMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Every cheat, on the built-in models and larger random ones, loses its dispute against the honest
 * recomputation, at the rule the design predicts; an honest worker never loses against a cheating
 * challenger.
 */
class CheatDetectionTest {
  private static final int JOBS = 30;

  /** Where each cheat is caught (docs/OPTIMISTIC.md, "Guarantees, measured"). */
  private static final Map<Cheat, Stage> EXPECTED = new EnumMap<>(Map.of(
      Cheat.RANDOM_OUTPUT, Stage.BISECTION_TIMEOUT,
      Cheat.FLIPPED_TOP_CLASS, Stage.OUTPUTS,
      Cheat.CHEAPER_MODEL, Stage.STEP_COUNT,
      Cheat.PERTURBED_WEIGHTS, Stage.INITIALIZER,
      Cheat.SKIPPED_LAYER, Stage.RECOMPUTE,
      Cheat.FLOAT16_PRECISION, Stage.RECOMPUTE,
      Cheat.REPLAYED_OUTPUT, Stage.GRAPH_INPUT));

  private static Execution honest(OnnxModel model, NamedTensors inputs) {
    try (CanonicalExecutor ex = CanonicalExecutor.create(model)) {
      return ex.runTraced(inputs);
    }
  }

  @Test
  void everyCheatOnTheBuiltinModelsLosesItsDisputeAtThePredictedRule() {
    for (ExampleModel m : Fixtures.builtins()) {
      OnnxModel model = Fixtures.onnx(m);
      int n = model.graph().nodes().size();
      for (Cheat cheat : Cheat.values()) {
        int effective = 0;
        for (int job = 0; job < JOBS; job++) {
          NamedTensors inputs = Fixtures.heldOut(m, job);
          Execution honest = honest(model, inputs);
          WorkerClaim claim = cheat.claim(model, inputs, honest, Fixtures.heldOut(m, job + JOBS),
              new Random(job));
          Ruling r = TraceDispute.settle(model, inputs, claim, WorkerClaim.of(honest));
          String what = cheat.label() + " on " + m.name() + " job " + job + ": " + r;
          if (claim.sameCommitment(WorkerClaim.of(honest))) {
            assertEquals(Stage.NO_DISPUTE, r.stage(), what);
            continue;
          }
          effective++;
          assertEquals(Party.WORKER, r.loser(), what);
          assertEquals(EXPECTED.get(cheat), r.stage(), what);
          assertTrue(r.rounds() <= 32 - Integer.numberOfLeadingZeros(n - 1), what);
          assertTrue(r.operatorsRecomputed() <= 1, what);
        }
        assertTrue(effective > 0, cheat.label() + " never changed a result of " + m.name());
      }
    }
  }

  @Test
  void skippedLayerIsCaughtAtTheSkippedStepAndReplayAtTheFirstStep() {
    ExampleModel m = Fixtures.builtins().get(1);
    OnnxModel model = Fixtures.onnx(m);
    NamedTensors inputs = Fixtures.sample(m, 0);
    Execution honest = honest(model, inputs);
    int relu = model.graph().nodes().stream().map(x -> x.opType()).toList().indexOf("Relu");
    Ruling skipped = TraceDispute.settle(model, inputs, Cheat.SKIPPED_LAYER.claim(model, inputs,
        honest, inputs, new Random(1)), WorkerClaim.of(honest));
    assertEquals(relu, skipped.step(), skipped.toString());
    Ruling replayed = TraceDispute.settle(model, inputs, Cheat.REPLAYED_OUTPUT.claim(model,
        inputs, honest, Fixtures.sample(m, 1), new Random(1)), WorkerClaim.of(honest));
    assertEquals(0, replayed.step(), replayed.toString());
  }

  @Test
  void everyCheatLosesOnLargerModels() {
    OnnxModel mlp = Fixtures.mlp(256, 128, 10, 3);
    OnnxModel conv = Fixtures.convNet(5);
    NamedTensors[] mlpJobs = {Fixtures.randomRows(1, 256, 1), Fixtures.randomRows(1, 256, 2)};
    NamedTensors[] convJobs = {Fixtures.images(1, 1), Fixtures.images(1, 2)};
    for (Cheat cheat : Cheat.values()) {
      for (Object[] job : new Object[][] {{mlp, mlpJobs}, {conv, convJobs}}) {
        OnnxModel model = (OnnxModel) job[0];
        NamedTensors[] in = (NamedTensors[]) job[1];
        Execution honest = honest(model, in[0]);
        WorkerClaim claim = cheat.claim(model, in[0], honest, in[1], new Random(7));
        Ruling r = TraceDispute.settle(model, in[0], claim, WorkerClaim.of(honest));
        assertEquals(Party.WORKER, r.loser(), cheat.label() + ": " + r);
        assertEquals(EXPECTED.get(cheat), r.stage(), cheat.label() + ": " + r);
      }
    }
  }

  @Test
  void anHonestWorkerNeverLosesAgainstACheatingChallenger() {
    for (ExampleModel m : Fixtures.builtins()) {
      OnnxModel model = Fixtures.onnx(m);
      for (int job = 0; job < 3; job++) {
        NamedTensors inputs = Fixtures.heldOut(m, job);
        Execution honest = honest(model, inputs);
        for (Cheat cheat : Cheat.values()) {
          WorkerClaim challenger = cheat.claim(model, inputs, honest, Fixtures.heldOut(m, job + 3),
              new Random(job));
          Ruling r = TraceDispute.settle(model, inputs, WorkerClaim.of(honest), challenger);
          assertFalse(r.loser() == Party.WORKER, cheat.label() + " as challenger: " + r);
        }
      }
    }
  }

  @Test
  void twoHonestPartiesHaveNothingToDispute() {
    ExampleModel m = Fixtures.builtins().get(0);
    OnnxModel model = Fixtures.onnx(m);
    NamedTensors inputs = Fixtures.samplesBatch(m);
    Ruling r = TraceDispute.settle(model, inputs, WorkerClaim.of(honest(model, inputs)),
        WorkerClaim.of(honest(model, inputs)));
    assertEquals(Stage.NO_DISPUTE, r.stage());
    assertEquals(Party.NONE, r.loser());
  }
}
