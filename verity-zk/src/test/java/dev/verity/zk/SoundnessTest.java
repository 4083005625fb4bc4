package dev.verity.zk;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.VerificationException;
import dev.verity.zk.Circuit.Kind;
import dev.verity.zk.Circuit.WitnessColumn;
import dev.verity.zk.field.Goldilocks;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A dishonest prover that changes the witness and claims the matching wrong output, then computes
 * every message honestly from the changed values: each constraint of the circuit must catch it.
 */
class SoundnessTest {
  /** Verification fails, and for the constraint under test. */
  private static void rejectsFor(ProvedInference p, String reason) {
    VerificationException e =
        assertThrows(VerificationException.class, () -> ZkInference.verify(p.statement(), p.proof()));
    assertTrue(e.getMessage().contains(reason), e.getMessage());
  }

  private static WitnessColumn column(Circuit c, Kind kind, int tensor, int index) {
    for (WitnessColumn wc : c.witnessColumns) {
      if (wc.kind() == kind && wc.tensor() == tensor && wc.index() == index) {
        return wc;
      }
    }
    throw new AssertionError("no column " + kind + " for tensor " + tensor);
  }

  private static long get(long[] w, WitnessColumn wc, int x) {
    return Goldilocks.toSigned(w[wc.column().offset() + x]);
  }

  private static void set(long[] w, WitnessColumn wc, int x, long v) {
    w[wc.column().offset() + x] = Goldilocks.fromLong(v);
  }

  /** dense -> requant(relu) as the output, so the ReLU's result is public. */
  private static QuantizedModel reluOutputModel() {
    Random rnd = new Random(11);
    var b = QuantizedModel.builder(TestModels.cid("relu-out"), Shape.vector(8));
    int d = b.dense(0, 6, TestModels.weights(rnd, 48, 100), TestModels.bias(rnd, 6, 100));
    b.requant(d, 4, true);
    return b.build();
  }

  private static long[] inputWithNegativeOutputs(QuantizedModel m) {
    Random rnd = new Random(3);
    for (int attempt = 0; attempt < 100; attempt++) {
      long[] x = TestModels.input(rnd, m.architecture().inputShape().size(), 12);
      Trace t = Trace.of(m, x);
      for (long z : t.quotients[m.architecture().outputTensor()]) {
        if (z < -1) {
          return x;
        }
      }
    }
    throw new AssertionError("no input with a negative pre-activation");
  }

  @Test
  void rejectsReluThatLetsANegativeValueThrough() throws Exception {
    QuantizedModel model = reluOutputModel();
    ProvingKey pk = ProvingKey.of(model);
    long[] input = inputWithNegativeOutputs(model);
    int out = model.architecture().outputTensor();
    long[] z = Trace.of(model, input).quotients[out];
    int k = 0;
    while (z[k] >= -1) {
      k++;
    }
    int idx = k;
    // claim relu(z) = z at one negative position: sign 1, sh = h - 128, sl = l, so 256 sh + sl = z
    ProvedInference p =
        InferenceProver.proveTampered(pk, input, Blinding.random(), (c, w, y) -> {
          WitnessColumn h = column(c, Kind.HIGH, out, 0);
          WitnessColumn l = column(c, Kind.LOW, out, 0);
          set(w, column(c, Kind.SIGN, out, 0), idx, 1);
          set(w, column(c, Kind.SIGN_HIGH, out, 0), idx, get(w, h, idx) - 128);
          set(w, column(c, Kind.SIGN_LOW, out, 0), idx, get(w, l, idx));
          y[idx] = z[idx];
        });
    assertTrue(p.statement().output()[idx] < 0);
    rejectsFor(p, "out of range");
  }

  @Test
  void rejectsRemainderOutsideItsRange() {
    // output = floor(acc / 16) + 1 with remainder acc - 16 (output + 1) < 0
    QuantizedModel model = TestModels.mlp(5, 10, 4, 3);
    ProvingKey pk = ProvingKey.of(model);
    long[] input = TestModels.input(new Random(6), 10, 8);
    int out = model.architecture().outputTensor();
    int shift = ((Layer.Requant) model.architecture().producer(out)).shift();
    ProvedInference p =
        InferenceProver.proveTampered(pk, input, Blinding.random(), (c, w, y) -> {
          WitnessColumn r0 = column(c, Kind.REMAINDER_LIMB, out, 0);
          set(w, r0, 0, get(w, r0, 0) - (1L << shift));
          y[0] += 1;
        });
    rejectsFor(p, "out of range");
  }

  @Test
  void rejectsAQuotientLimbOutsideItsByte() {
    // move one unit from the high limb to the low limb: z is unchanged but l = 256 + l
    QuantizedModel model = TestModels.mlp(7, 10, 4, 3);
    ProvingKey pk = ProvingKey.of(model);
    long[] input = TestModels.input(new Random(8), 10, 8);
    int hidden = 2;
    ProvedInference p =
        InferenceProver.proveTampered(pk, input, Blinding.random(), (c, w, y) -> {
          WitnessColumn h = column(c, Kind.HIGH, hidden, 0);
          WitnessColumn l = column(c, Kind.LOW, hidden, 0);
          set(w, h, 0, get(w, h, 0) - 1);
          set(w, l, 0, get(w, l, 0) + 256);
        });
    rejectsFor(p, "out of range");
  }

  /** conv -> requant(relu) -> maxpool as the output. */
  private static QuantizedModel poolOutputModel() {
    Random rnd = new Random(12);
    var b = QuantizedModel.builder(TestModels.cid("pool-out"), new Shape(1, 4, 4));
    int c1 = b.conv2d(0, 2, 3, 1, 1, TestModels.weights(rnd, 18, 20), TestModels.bias(rnd, 2, 50));
    b.maxPool(b.requant(c1, 3, true));
    return b.build();
  }

  @Test
  void rejectsPoolingOutputAboveTheWindowMaximum() {
    // claim max + 1: every difference is then positive and in range, but none is zero
    QuantizedModel model = poolOutputModel();
    ProvingKey pk = ProvingKey.of(model);
    long[] input = TestModels.input(new Random(9), 16, 10);
    int out = model.architecture().outputTensor();
    ProvedInference p =
        InferenceProver.proveTampered(pk, input, Blinding.random(), (c, w, y) -> {
          y[0] += 1;
          for (int j = 0; j < 4; j++) {
            WitnessColumn lo = column(c, Kind.POOL_DIFF_LOW, out, j);
            WitnessColumn hi = column(c, Kind.POOL_DIFF_HIGH, out, j);
            long d = get(w, lo, 0) + 256 * get(w, hi, 0) + 1;
            set(w, lo, 0, d & 255);
            set(w, hi, 0, d >> 8);
          }
        });
    rejectsFor(p, "not the maximum of its window");
  }

  @Test
  void rejectsPoolingOutputBelowTheWindowMaximum() {
    // claim max - 1: the difference to the maximal element is -1, which no pair of limbs encodes
    QuantizedModel model = poolOutputModel();
    ProvingKey pk = ProvingKey.of(model);
    long[] input = TestModels.input(new Random(10), 16, 10);
    int out = model.architecture().outputTensor();
    ProvedInference p =
        InferenceProver.proveTampered(pk, input, Blinding.random(), (c, w, y) -> {
          y[0] -= 1;
          for (int j = 0; j < 4; j++) {
            WitnessColumn lo = column(c, Kind.POOL_DIFF_LOW, out, j);
            WitnessColumn hi = column(c, Kind.POOL_DIFF_HIGH, out, j);
            long d = get(w, lo, 0) + 256 * get(w, hi, 0) - 1;
            set(w, lo, 0, d & 255);
            set(w, hi, 0, d >> 8);
          }
        });
    rejectsFor(p, "out of range");
  }

  @Test
  void untamperedHookProducesAValidProof() throws Exception {
    // the tamper hook itself does not break honest proofs, so the tests above fail for their change
    QuantizedModel model = poolOutputModel();
    ProvedInference p =
        InferenceProver.proveTampered(ProvingKey.of(model), TestModels.input(new Random(9), 16, 10), Blinding.random(), (c, w, y) -> {});
    ZkInference.verify(p.statement(), p.proof());
  }
}
