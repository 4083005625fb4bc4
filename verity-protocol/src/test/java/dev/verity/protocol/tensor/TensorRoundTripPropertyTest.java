package dev.verity.protocol.tensor;

import static dev.verity.protocol.tensor.Transports.viaCbor;
import static dev.verity.protocol.tensor.Transports.viaJson;
import static dev.verity.protocol.tensor.Transports.viaNpy;
import static dev.verity.protocol.tensor.Transports.viaNpz;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
  void theCidIsTheDagCborCidOfTheCanonicalEncoding(@ForAll("namedTensors") NamedTensors t) {
    assertEquals(dev.verity.core.Cid.dagCbor(t.canonicalBytes()), t.cid());
    assertEquals(dev.verity.core.Cid.dagCbor(dev.verity.core.cbor.Cbor.encode(t.toCbor())), t.cid());
  }

  @net.jqwik.api.Example
  void theCidMatchesTheCanonicalEncodingAtEveryLengthForm() {
    // Data, shape and tensor counts across CBOR's 1-, 2-, 3-, 5- and 9-byte heads.
    java.util.Map<String, Tensor> all = new java.util.TreeMap<>();
    for (int n : new int[] {0, 23, 24, 255, 256, 65_535, 65_536, 70_001}) {
      byte[] data = new byte[n];
      new java.util.Random(n).nextBytes(data);
      Tensor t = Tensor.ofBytes(ElementType.UINT8, new long[] {n}, data);
      NamedTensors one = NamedTensors.of("t", t);
      assertEquals(dev.verity.core.Cid.dagCbor(one.canonicalBytes()), one.cid(), n + " bytes");
      all.put("t" + n, t);
    }
    for (int i = 0; i < 30; i++) {
      all.put("s" + i, Tensor.ofStrings(new long[] {2, 1}, java.util.List.of("a" + i, "\u00e9")));
    }
    NamedTensors many = NamedTensors.of(all);
    assertEquals(dev.verity.core.Cid.dagCbor(many.canonicalBytes()), many.cid());
  }

  @Property(tries = 300)
  void randomNumericTensorsRoundTripThroughNpzWithTheSameCid(@ForAll("binaryNamedTensors") NamedTensors t) {
    NamedTensors npz = viaNpz(t);
    assertEquals(t, npz);
    assertEquals(t.cid(), npz.cid());
    assertEquals(t.cid(), viaJson(npz).cid());
  }

  @org.junit.jupiter.api.Test
  void aCidHashedInTheBackgroundIsTheCidOfTheCanonicalEncoding() throws Exception {
    float[] v = new float[100_000];
    for (int i = 0; i < v.length; i++) {
      v[i] = i * 0.5f - 7;
    }
    NamedTensors t = NamedTensors.of(java.util.Map.of("x", Tensor.ofFloats(new long[] {1, v.length}, v),
        "y", Tensor.ofInts(new long[] {3}, new int[] {1, 2, 3})));
    assertTrue(t.totalBytes() >= NamedTensors.BACKGROUND_CID_BYTES, "large enough to be hashed in the background");
    dev.verity.core.Cid expected = dev.verity.core.Cid.dagCbor(t.canonicalBytes());
    t.cidInBackground();
    // callers racing the background hash all get its one result
    java.util.List<java.util.concurrent.Future<dev.verity.core.Cid>> racing = new java.util.ArrayList<>();
    try (var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
      for (int i = 0; i < 8; i++) {
        racing.add(pool.submit(t::cid));
      }
    }
    for (var f : racing) {
      assertEquals(expected, f.get());
    }
    NamedTensors small = NamedTensors.of("x", Tensor.ofFloats(new long[] {2}, new float[] {1, 2}));
    small.cidInBackground();
    assertEquals(dev.verity.core.Cid.dagCbor(small.canonicalBytes()), small.cid());
  }

  @Property(tries = 200)
  void anNpzHasExactlyItsAnnouncedSizeAndTheSameBytesEachTime(@ForAll("binaryNamedTensors") NamedTensors t)
      throws java.io.IOException {
    byte[] npz = Npy.toNpz(t);
    assertEquals(Npy.npzSize(t), npz.length);
    java.io.ByteArrayOutputStream streamed = new java.io.ByteArrayOutputStream();
    Npy.writeNpz(t, streamed);
    org.junit.jupiter.api.Assertions.assertArrayEquals(npz, streamed.toByteArray());
    org.junit.jupiter.api.Assertions.assertArrayEquals(npz, Npy.toNpz(viaNpz(t)));
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
