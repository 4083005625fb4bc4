package dev.verity.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.verity.exec.TraceDispute.Party;
import dev.verity.exec.TraceDispute.Ruling;
import dev.verity.exec.TraceDispute.Stage;
import dev.verity.onnx.OnnxModel;
import dev.verity.protocol.tensor.NamedTensors;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * A lie in one bit of any one step is convicted at exactly that step, whoever tells it: a lying
 * worker loses, a lying challenger loses against an honest worker.
 */
class DisputePropertiesTest {
  private static final OnnxModel MODEL = Fixtures.convNet(31);
  private static final NamedTensors INPUTS = Fixtures.images(1, 32);
  private static final Execution HONEST;

  static {
    try (CanonicalExecutor ex = CanonicalExecutor.create(MODEL)) {
      HONEST = ex.runTraced(INPUTS);
    }
  }

  /** The run with one bit of one element of step {@code lie}'s output flipped. */
  private static Execution lyingAt(int lie, int position, int bit) {
    try (CanonicalExecutor ex = CanonicalExecutor.create(MODEL)) {
      return ex.execute(INPUTS, true, (step, out) -> {
        if (step != lie) {
          return out;
        }
        if (out.isFloat()) {
          float[] f = out.f.clone();
          int i = position % f.length;
          f[i] = Float.intBitsToFloat(Float.floatToRawIntBits(f[i]) ^ (1 << bit));
          return Value.ofFloats(out.shape, f);
        }
        long[] l = out.l.clone();
        l[position % l.length] ^= 1L << bit;
        return Value.ofLongs(out.shape, l);
      });
    }
  }

  @Property(tries = 40)
  void aWorkerLyingInOneBitOfAnyStepIsConvictedAtThatStep(
      @ForAll @IntRange(min = 0, max = 1000) int step,
      @ForAll @IntRange(min = 0, max = 1_000_000) int position,
      @ForAll @IntRange(max = 31) int bit) {
    int lie = step % HONEST.trace().size();
    Execution bad = lyingAt(lie, position, bit);
    Ruling r = TraceDispute.settle(MODEL, INPUTS, WorkerClaim.of(bad), WorkerClaim.of(HONEST));
    assertEquals(Party.WORKER, r.loser(), r.toString());
    assertEquals(lie, r.step(), r.toString());
  }

  @Property(tries = 40)
  void aChallengerLyingInOneBitOfAnyStepLosesToAnHonestWorker(
      @ForAll @IntRange(min = 0, max = 1000) int step,
      @ForAll @IntRange(min = 0, max = 1_000_000) int position,
      @ForAll @IntRange(max = 31) int bit) {
    int lie = step % HONEST.trace().size();
    Execution bad = lyingAt(lie, position, bit);
    Ruling r = TraceDispute.settle(MODEL, INPUTS, WorkerClaim.of(HONEST), WorkerClaim.of(bad));
    assertEquals(Party.CHALLENGER, r.loser(), r.toString());
    assertEquals(Stage.STEP_UPHELD, r.stage(), r.toString());
    assertEquals(lie, r.step(), r.toString());
  }
}
