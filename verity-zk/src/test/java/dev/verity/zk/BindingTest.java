package dev.verity.zk;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.verity.core.VerificationException;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A proof is bound to one model (CID, weights, architecture), one input commitment, one output. */
class BindingTest {
  static QuantizedModel model;
  static long[] input;
  static ProvedInference proof;

  @BeforeAll
  static void prove() {
    model = TestModels.cnn(21);
    input = TestModels.input(new Random(22), model.architecture().inputShape().size(), 9);
    proof = ZkInference.prove(model, input, Blinding.random());
  }

  private static void rejectsUnder(VerifyingKey other) {
    assertNotEquals(proof.statement().key(), other);
    Statement s = new Statement(other, proof.statement().input(), proof.statement().output());
    assertThrows(VerificationException.class, () -> ZkInference.verify(s, proof.proof()));
  }

  @Test
  void rejectsProofForAnotherModel() {
    rejectsUnder(VerifyingKey.of(TestModels.cnn(23)));
  }

  @Test
  void rejectsProofUnderAChangedWeight() {
    rejectsUnder(VerifyingKey.of(withChangedWeight(model, 0, 5)));
  }

  @Test
  void rejectsProofUnderAChangedBias() {
    rejectsUnder(VerifyingKey.of(withChangedBias(model, 0, 1)));
  }

  @Test
  void rejectsProofUnderTheSameWeightsWithAnotherCid() {
    rejectsUnder(VerifyingKey.of(rebuild(model, TestModels.cid("another model"), -1, 0, false)));
  }

  @Test
  void rejectsProofForAnotherInputCommitment() {
    InputCommitment other = InputCommitment.of(model.architecture(), input, Blinding.random());
    assertNotEquals(proof.statement().input(), other);
    Statement s = new Statement(proof.statement().key(), other, proof.statement().output());
    assertThrows(VerificationException.class, () -> ZkInference.verify(s, proof.proof()));
  }

  @Test
  void rejectsProofWithTheOutputsSwapped() {
    long[] y = proof.statement().output();
    long t = y[0];
    y[0] = y[1];
    y[1] = t;
    if (y[0] != y[1]) {
      assertThrows(VerificationException.class, () -> ZkInference.verify(proof.statement().withOutput(y), proof.proof()));
    }
  }

  @Test
  void rejectsOutputOfTheWrongLength() {
    long[] y = java.util.Arrays.copyOf(proof.statement().output(), proof.statement().output().length + 1);
    assertThrows(VerificationException.class, () -> ZkInference.verify(proof.statement().withOutput(y), proof.proof()));
  }

  @Test
  void rejectsTruncatedAndExtendedProofs() {
    byte[] b = proof.proof().encode();
    for (int cut : new int[] {1, 8, 32, b.length / 2, b.length - Proof.HEADER}) {
      Proof p = Proof.decode(java.util.Arrays.copyOf(b, b.length - cut));
      assertThrows(VerificationException.class, () -> ZkInference.verify(proof.statement(), p));
    }
    Proof longer = Proof.decode(java.util.Arrays.copyOf(b, b.length + 16));
    assertThrows(VerificationException.class, () -> ZkInference.verify(proof.statement(), longer));
  }

  static QuantizedModel withChangedWeight(QuantizedModel m, int layer, int delta) {
    return rebuild(m, m.cid(), layer, delta, false);
  }

  static QuantizedModel withChangedBias(QuantizedModel m, int layer, int delta) {
    return rebuild(m, m.cid(), layer, delta, true);
  }

  /** The same model, optionally with another CID or one parameter of one layer changed. */
  static QuantizedModel rebuild(QuantizedModel m, dev.verity.core.Cid cid, int layer, int delta, boolean bias) {
    var b = QuantizedModel.builder(cid, m.architecture().inputShape());
    var layers = m.architecture().layers();
    for (int i = 0; i < layers.size(); i++) {
      int[] w = layers.get(i) instanceof Layer.Dense || layers.get(i) instanceof Layer.Conv2d ? m.weights(i) : null;
      long[] bs = w == null ? null : m.bias(i);
      if (i == layer && w != null) {
        if (bias) {
          bs[0] += delta;
        } else {
          w[w.length / 2] += delta;
        }
      }
      switch (layers.get(i)) {
        case Layer.Dense d -> b.dense(d.input(), d.outputs(), w, bs);
        case Layer.Conv2d c -> b.conv2d(c.input(), c.outChannels(), c.kernel(), c.stride(), c.padding(), w, bs);
        case Layer.Requant r -> b.requant(r.input(), r.shift(), r.relu());
        case Layer.MaxPool p -> b.maxPool(p.input());
        case Layer.SumPool p -> b.sumPool(p.input());
        case Layer.Add a -> b.add(a.left(), a.right());
      }
    }
    return b.build();
  }
}
