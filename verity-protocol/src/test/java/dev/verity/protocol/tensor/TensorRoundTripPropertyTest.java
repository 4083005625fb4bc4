package dev.verity.protocol.tensor;

import static dev.verity.protocol.tensor.Transports.viaCbor;
import static dev.verity.protocol.tensor.Transports.viaJson;
import static dev.verity.protocol.tensor.Transports.viaNpy;
import static dev.verity.protocol.tensor.Transports.viaNpz;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

class TensorRoundTripPropertyTest {

  @Property(tries = 300)
  void randomTensorsRoundTripThroughCborAndJsonWithTheSameCid(@ForAll("namedTensors") NamedTensors t) {
    NamedTensors cbor = viaCbor(t);
    NamedTensors json = viaJson(t);
    assertEquals(t, cbor);
    assertEquals(t, json);
    assertArrayEquals(t.canonicalBytes(), json.canonicalBytes());
    assertEquals(t.cid(), cbor.cid());
    assertEquals(t.cid(), json.cid());
  }

  @Property(tries = 300)
  void randomNumericTensorsRoundTripThroughNpzWithTheSameCid(@ForAll("binaryNamedTensors") NamedTensors t) {
    NamedTensors npz = viaNpz(t);
    assertEquals(t, npz);
    assertEquals(t.cid(), npz.cid());
    assertEquals(t.cid(), viaJson(npz).cid());
  }

  @Property(tries = 300)
  void randomNumericTensorsRoundTripThroughNpy(@ForAll("binaryTensors") Tensor t) {
    assertEquals(t, viaNpy(t));
  }

  @Property(tries = 200)
  void binaryTransportsKeepEveryFloatBitPattern(@ForAll("rawFloat32") Tensor t) {
    NamedTensors named = NamedTensors.of("raw", t);
    assertEquals(named, viaNpz(named));
    assertEquals(named, viaCbor(named));
    assertEquals(t, viaNpy(t));
  }

  @Provide
  Arbitrary<NamedTensors> namedTensors() {
    return RandomTensors.namedTensors();
  }

  @Provide
  Arbitrary<NamedTensors> binaryNamedTensors() {
    return RandomTensors.binaryNamedTensors();
  }

  @Provide
  Arbitrary<Tensor> binaryTensors() {
    return RandomTensors.binaryTensors();
  }

  @Provide
  Arbitrary<Tensor> rawFloat32() {
    return RandomTensors.rawFloat32();
  }
}
