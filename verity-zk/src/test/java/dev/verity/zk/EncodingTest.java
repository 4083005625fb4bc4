package dev.verity.zk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.verity.core.DecodingException;
import dev.verity.core.cbor.Cbor;
import dev.verity.core.cbor.CborValue;
import java.util.List;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/** Proofs, verifying keys and architectures decode strictly and reject hostile bytes. */
class EncodingTest {
  @Test
  void proofRoundTripsAndRejectsBadHeaders() {
    Proof p = ZkInference.prove(TestModels.mlp(31, 6, 3, 2), TestModels.input(new Random(1), 6, 8), Blinding.random()).proof();
    assertEquals(p, Proof.decode(p.encode()));
    byte[] b = p.encode();
    byte[] badMagic = b.clone();
    badMagic[0] = 'X';
    assertThrows(DecodingException.class, () -> Proof.decode(badMagic));
    byte[] badVersion = b.clone();
    badVersion[4] = 2;
    assertThrows(DecodingException.class, () -> Proof.decode(badVersion));
    assertThrows(DecodingException.class, () -> Proof.decode(new byte[3]));
    assertThrows(DecodingException.class, () -> Proof.decode(null));
    assertThrows(DecodingException.class, () -> Proof.decode(new byte[Proof.MAX_BYTES + 1]));
  }

  @Property(tries = 200)
  void randomBytesAreNeverAProof(@ForAll @Size(max = 64) byte[] bytes) {
    if (bytes.length < Proof.HEADER || bytes[0] != 'V') {
      assertThrows(DecodingException.class, () -> Proof.decode(bytes));
    }
  }

  @Test
  void verifyingKeyRoundTrips() {
    VerifyingKey k = VerifyingKey.of(TestModels.cnn(32));
    VerifyingKey back = VerifyingKey.decode(k.encode());
    assertEquals(k, back);
    assertEquals(k.digest(), back.digest());
    assertEquals(k.architecture(), back.architecture());
    assertArrayEquals(k.encode(), back.encode());
  }

  @Property(tries = 200)
  void mutatedVerifyingKeysFailToDecodeOrDiffer(@ForAll int position, @ForAll byte flip) {
    VerifyingKey k = VerifyingKey.of(TestModels.mlp(33, 4, 3, 2));
    byte[] b = k.encode();
    int at = Math.floorMod(position, b.length);
    if (flip == 0) {
      return;
    }
    b[at] ^= flip;
    try {
      VerifyingKey other = VerifyingKey.decode(b);
      assertNotEquals(k.digest(), other.digest());
    } catch (DecodingException expected) {
      // rejected
    }
  }

  @Test
  void rejectsVerifyingKeysWithUnknownFieldsOrVersions() {
    VerifyingKey k = VerifyingKey.of(TestModels.mlp(34, 4, 3, 2));
    CborValue.Map m = Cbor.decodeMap(k.encode());
    CborValue.Map.Builder extra = CborValue.Map.builder();
    m.entries().forEach(extra::put);
    extra.put("extra", 1);
    assertThrows(DecodingException.class, () -> VerifyingKey.decode(Cbor.encode(extra.build())));
    CborValue.Map.Builder v2 = CborValue.Map.builder();
    m.entries().forEach((key, value) -> v2.put(key, key.equals("v") ? new CborValue.Int(2) : value));
    assertThrows(DecodingException.class, () -> VerifyingKey.decode(Cbor.encode(v2.build())));
    assertThrows(DecodingException.class, () -> VerifyingKey.decode(new byte[] {1, 2, 3}));
  }

  private static CborValue layer(String op, Object... kv) {
    CborValue.Map.Builder b = CborValue.Map.builder().put("op", op);
    for (int i = 0; i < kv.length; i += 2) {
      Object v = kv[i + 1];
      b.put((String) kv[i], v instanceof Boolean bool ? new CborValue.Bool(bool) : new CborValue.Int(((Number) v).longValue()));
    }
    return b.build();
  }

  private static CborValue arch(List<CborValue> layers, long... shape) {
    return CborValue.Map.builder()
        .put("input", new CborValue.Array(java.util.Arrays.stream(shape).mapToObj(CborValue.Int::new).map(CborValue.class::cast).toList()))
        .put("layers", new CborValue.Array(layers))
        .build();
  }

  @Test
  void rejectsInvalidArchitectures() {
    // reads a tensor that does not exist yet
    assertThrows(DecodingException.class, () -> Architecture.fromCbor(arch(List.of(layer("dense", "in", 1, "out", 2)), 1, 1, 4)));
    // unknown op, missing field, extra field
    assertThrows(DecodingException.class, () -> Architecture.fromCbor(arch(List.of(layer("softmax", "in", 0)), 1, 1, 4)));
    assertThrows(DecodingException.class, () -> Architecture.fromCbor(arch(List.of(layer("dense", "in", 0)), 1, 1, 4)));
    assertThrows(DecodingException.class, () -> Architecture.fromCbor(arch(List.of(layer("dense", "in", 0, "out", 2, "x", 1)), 1, 1, 4)));
    // pooling of odd sizes; max pooling of a virtual tensor; a shift beyond 24; an absurd tensor
    assertThrows(DecodingException.class, () -> Architecture.fromCbor(arch(List.of(layer("maxpool", "in", 0)), 1, 3, 4)));
    assertThrows(DecodingException.class, () -> Architecture.fromCbor(arch(
        List.of(layer("conv2d", "in", 0, "out", 1, "k", 1, "stride", 1, "pad", 0), layer("maxpool", "in", 1)), 1, 4, 4)));
    assertThrows(DecodingException.class, () -> Architecture.fromCbor(arch(
        List.of(layer("dense", "in", 0, "out", 1), layer("requant", "in", 1, "shift", 25, "relu", false)), 1, 1, 4)));
    assertThrows(DecodingException.class, () -> Architecture.fromCbor(arch(List.of(layer("dense", "in", 0, "out", 2)), 1 << 20, 1 << 20, 4)));
    assertThrows(DecodingException.class, () -> Architecture.fromCbor(arch(List.of(), 1, 1, 4)));
    // an unused intermediate tensor
    assertThrows(DecodingException.class, () -> Architecture.fromCbor(arch(
        List.of(layer("dense", "in", 0, "out", 2), layer("dense", "in", 0, "out", 2)), 1, 1, 4)));
  }

  @Test
  void architectureRoundTrips() {
    Architecture a = TestModels.cnn(35).architecture();
    assertEquals(a, Architecture.fromCbor(Cbor.decode(Cbor.encode(a.toCbor()))));
  }
}
