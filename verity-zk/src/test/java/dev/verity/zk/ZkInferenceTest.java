package dev.verity.zk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.verity.core.VerificationException;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ZkInferenceTest {
  @Test
  void honestMlpProofVerifies() throws Exception {
    QuantizedModel model = TestModels.mlp(1, 12, 6, 3);
    long[] input = TestModels.input(new Random(2), 12, 8);
    ProvedInference p = ZkInference.prove(model, input, Blinding.random());
    assertArrayEquals(model.run(input), p.statement().output());
    ZkInference.verify(p.statement(), p.proof());
  }

  @Test
  void honestCnnProofVerifies() throws Exception {
    QuantizedModel model = TestModels.cnn(3);
    long[] input = TestModels.input(new Random(4), model.architecture().inputShape().size(), 8);
    ProvedInference p = ZkInference.prove(model, input, Blinding.random());
    ZkInference.verify(p.statement(), p.proof());
  }

  @Test
  void proofIsAboutTheCommitmentTheUserComputed() throws Exception {
    QuantizedModel model = TestModels.mlp(5, 12, 6, 3);
    long[] input = TestModels.input(new Random(6), 12, 8);
    Blinding blinding = Blinding.random();
    InputCommitment mine = InputCommitment.of(model.architecture(), input, blinding);
    ProvedInference p = ZkInference.prove(ProvingKey.of(model), input, blinding);
    org.junit.jupiter.api.Assertions.assertEquals(mine, p.statement().input());
    p.statement().input().verifyOpening(model.architecture(), input, blinding);
  }

  @Test
  void provingFailsCleanlyForInputsOutsideInt16() {
    QuantizedModel model = TestModels.mlp(5, 12, 6, 3);
    long[] input = new long[12];
    input[3] = 1 << 15;
    assertThrows(IllegalArgumentException.class, () -> ZkInference.prove(model, input, Blinding.random()));
  }

  @Test
  void proofsOfTheSameInferenceAreFreshlyRandomised() throws Exception {
    QuantizedModel model = TestModels.mlp(5, 12, 6, 3);
    ProvingKey pk = ProvingKey.of(model);
    long[] input = TestModels.input(new Random(6), 12, 8);
    byte[] blinding = Blinding.random().toBytes();
    ProvedInference a = ZkInference.prove(pk, input, Blinding.of(blinding));
    ProvedInference b = ZkInference.prove(pk, input, Blinding.of(blinding));
    org.junit.jupiter.api.Assertions.assertEquals(a.statement(), b.statement());
    org.junit.jupiter.api.Assertions.assertNotEquals(a.proof(), b.proof());
    ZkInference.verify(a.statement(), a.proof());
    ZkInference.verify(b.statement(), b.proof());
  }

  @Test
  void refusesArchitecturesThatReadATensorTooOftenToHideIt() {
    // a tensor of 8 values has a mask hiding 9 evaluations; nine readers need more
    Random rnd = new Random(9);
    var b = QuantizedModel.builder(TestModels.cid("wide"), Shape.vector(4));
    int r = b.requant(b.dense(0, 8, TestModels.weights(rnd, 32, 3), TestModels.bias(rnd, 8, 3)), 2, false);
    int cur = r;
    for (int i = 0; i < 8; i++) {
      cur = b.requant(b.add(cur, r), 1, false);
    }
    QuantizedModel model = b.build();
    assertThrows(IllegalArgumentException.class, () -> ProvingKey.of(model));
  }

  @Test
  void rejectsAChangeOfAnySingleByteAcrossTheWholeProof() {
    // one flipped bit in each of 250 evenly spaced positions: every phase of the proof is covered
    QuantizedModel model = TestModels.cnn(3);
    long[] input = TestModels.input(new Random(4), model.architecture().inputShape().size(), 8);
    ProvedInference p = ZkInference.prove(model, input, Blinding.random());
    byte[] bytes = p.proof().encode();
    int step = Math.max(1, bytes.length / 250);
    for (int at = 0; at < bytes.length; at += step) {
      byte[] bad = bytes.clone();
      bad[at] ^= (byte) (1 << (at % 8));
      int position = at;
      if (at < Proof.HEADER) {
        assertThrows(dev.verity.core.DecodingException.class, () -> Proof.decode(bad), "byte " + position);
      } else {
        assertThrows(VerificationException.class, () -> ZkInference.verify(p.statement(), Proof.decode(bad)), "byte " + position);
      }
    }
  }

  @Test
  void rejectsChangedOutput() {
    QuantizedModel model = TestModels.mlp(1, 12, 6, 3);
    long[] input = TestModels.input(new Random(2), 12, 8);
    ProvedInference p = ZkInference.prove(model, input, Blinding.random());
    long[] y = p.statement().output();
    y[0] += 1;
    assertThrows(VerificationException.class, () -> ZkInference.verify(p.statement().withOutput(y), p.proof()));
  }
}
