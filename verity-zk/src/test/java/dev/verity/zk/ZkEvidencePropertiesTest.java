package dev.verity.zk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.verity.core.DecodingException;
import dev.verity.core.VerificationException;
import dev.verity.core.cbor.Cbor;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;

/**
 * The zk evidence map and the input opening are hostile-input safe: random bytes never decode
 * into anything but a {@link DecodingException}, encodings round-trip, and mutated evidence never
 * both decodes and verifies.
 */
class ZkEvidencePropertiesTest {
  private static final class Fixture {
    static final QuantizedModel MODEL = TestModels.mlp(31, 12, 6, 3);
    static final ProvingKey KEY = ProvingKey.of(MODEL);
    static final ProvedInference PROVED = ZkInference.prove(KEY, TestModels.input(new Random(32), 12, 8), Blinding.random());
    static final byte[] EVIDENCE = Cbor.encode(ZkEvidence.of(PROVED).toCbor());
  }

  @Property(tries = 300)
  void randomBytesAreEvidenceOrADecodingException(@ForAll @Size(max = 200) byte[] bytes) {
    try {
      ZkEvidence e = ZkEvidence.fromCbor(Cbor.decodeMap(bytes));
      assertEquals(e, ZkEvidence.fromCbor(e.toCbor()));
    } catch (DecodingException expected) {
      // refused cleanly
    }
  }

  @Property(tries = 300)
  void randomBytesAreAnOpeningOrADecodingException(@ForAll @Size(max = 200) byte[] bytes) {
    try {
      InputOpening o = InputOpening.decode(bytes);
      assertArrayEquals(o.encode(), InputOpening.decode(o.encode()).encode());
    } catch (DecodingException expected) {
      // refused cleanly
    }
  }

  @Property(tries = 40)
  void mutatedEvidenceNeverVerifies(@ForAll long seed) {
    byte[] bad = Fixture.EVIDENCE.clone();
    Random rnd = new Random(seed);
    int at = rnd.nextInt(bad.length);
    bad[at] ^= (byte) (1 + rnd.nextInt(255));
    try {
      ZkEvidence e = ZkEvidence.fromCbor(Cbor.decodeMap(bad));
      assertThrows(VerificationException.class,
          () -> ZkInference.verify(e.statement(Fixture.KEY.verifyingKey()), e.proof()), "byte " + at);
    } catch (DecodingException expected) {
      // refused before any verification
    }
  }

  @Property(tries = 50)
  void openingsRoundTrip(@ForAll @Size(min = 1, max = 16) float[] values) {
    InputOpening o = new InputOpening(NamedTensors.of("x", Tensor.ofFloats(new long[] {1, values.length}, values)),
        Blinding.random());
    InputOpening back = InputOpening.decode(o.encode());
    assertEquals(o.inputs(), back.inputs());
    assertArrayEquals(o.blinding().toBytes(), back.blinding().toBytes());
  }

  @Property(tries = 1)
  void theFixtureVerifies() throws Exception {
    ZkEvidence e = ZkEvidence.fromCbor(Cbor.decodeMap(Fixture.EVIDENCE));
    ZkInference.verify(e.statement(Fixture.KEY.verifyingKey()), e.proof());
  }
}
