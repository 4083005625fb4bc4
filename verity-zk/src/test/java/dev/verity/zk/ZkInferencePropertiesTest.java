package dev.verity.zk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.verity.core.VerificationException;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/** Completeness and soundness over random small networks of every layer type. */
class ZkInferencePropertiesTest {
  @Property(tries = 25)
  void honestProofsOfRandomNetworksVerify(@ForAll long seed) throws Exception {
    QuantizedModel model = RandomNetworks.model(seed);
    long[] input = RandomNetworks.input(model, seed + 1);
    ProvedInference p = ZkInference.prove(model, input, Blinding.random());
    assertArrayEquals(model.run(input), p.statement().output());
    ZkInference.verify(p.statement(), Proof.decode(p.proof().encode()));
  }

  @Property(tries = 15)
  void everyMutatedProofIsRejected(@ForAll long seed) {
    QuantizedModel model = RandomNetworks.model(seed);
    long[] input = RandomNetworks.input(model, seed + 1);
    ProvedInference p = ZkInference.prove(model, input, Blinding.random());
    byte[] bytes = p.proof().encode();
    Random rnd = new Random(seed);
    for (int k = 0; k < 6; k++) {
      byte[] bad = bytes.clone();
      int at = Proof.HEADER + rnd.nextInt(bytes.length - Proof.HEADER);
      bad[at] ^= (byte) (1 + rnd.nextInt(255));
      assertThrows(VerificationException.class, () -> ZkInference.verify(p.statement(), Proof.decode(bad)), "byte " + at);
    }
  }

  @Property(tries = 15)
  void everyChangedOutputIsRejected(@ForAll long seed) {
    QuantizedModel model = RandomNetworks.model(seed);
    long[] input = RandomNetworks.input(model, seed + 1);
    ProvedInference p = ZkInference.prove(model, input, Blinding.random());
    long[] y = p.statement().output();
    Random rnd = new Random(seed);
    int i = rnd.nextInt(y.length);
    y[i] += rnd.nextBoolean() ? 1 : -1 - rnd.nextInt(100);
    assertThrows(VerificationException.class, () -> ZkInference.verify(p.statement().withOutput(y), p.proof()));
  }
}
