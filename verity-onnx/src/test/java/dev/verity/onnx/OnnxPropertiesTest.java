package dev.verity.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.verity.core.DecodingException;
import java.util.Arrays;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

class OnnxPropertiesTest {

  @Property(tries = 300)
  void randomModelsRoundTripByteForByte(@ForAll long seed) {
    OnnxModel model = RandomModels.generate(seed);
    byte[] bytes = OnnxWriter.write(model);
    OnnxModel read = OnnxReader.read(bytes);
    assertEquals(model, read);
    assertArrayEquals(bytes, OnnxWriter.write(read));
    assertEquals(OnnxModelInfo.of(model, bytes.length), OnnxReader.readInfo(bytes));
  }

  @Property(tries = 500)
  void mutatedModelsDecodeOrFailWithDecodingException(
      @ForAll long seed, @ForAll @IntRange(min = 1, max = 6) int mutations) {
    SplittableRandom rnd = new SplittableRandom(seed ^ 0x5DEECE66DL);
    byte[] bytes = OnnxWriter.write(RandomModels.generate(seed));
    for (int i = 0; i < mutations; i++) {
      bytes = mutate(bytes, rnd);
    }
    decodeOrReject(bytes);
  }

  @Property(tries = 300)
  void truncatedModelsDecodeOrFailWithDecodingException(
      @ForAll long seed, @ForAll @IntRange(min = 0, max = 1000) int permille) {
    byte[] bytes = OnnxWriter.write(RandomModels.generate(seed));
    decodeOrReject(Arrays.copyOf(bytes, (int) ((long) bytes.length * permille / 1000)));
  }

  @Property(tries = 500)
  void randomBytesDecodeOrFailWithDecodingException(@ForAll @Size(max = 400) byte[] bytes) {
    decodeOrReject(bytes);
  }

  private static byte[] mutate(byte[] b, SplittableRandom rnd) {
    if (b.length == 0) {
      return new byte[] {(byte) rnd.nextInt()};
    }
    int at = rnd.nextInt(b.length);
    switch (rnd.nextInt(5)) {
      case 0 -> {
        byte[] c = b.clone();
        c[at] ^= (byte) (1 << rnd.nextInt(8));
        return c;
      }
      case 1 -> {
        byte[] c = b.clone();
        c[at] = (byte) rnd.nextInt();
        return c;
      }
      case 2 -> {
        int len = Math.min(b.length - at, 1 + rnd.nextInt(16));
        byte[] c = new byte[b.length - len];
        System.arraycopy(b, 0, c, 0, at);
        System.arraycopy(b, at + len, c, at, b.length - at - len);
        return c;
      }
      case 3 -> {
        byte[] ins = new byte[1 + rnd.nextInt(8)];
        rnd.nextBytes(ins);
        byte[] c = new byte[b.length + ins.length];
        System.arraycopy(b, 0, c, 0, at);
        System.arraycopy(ins, 0, c, at, ins.length);
        System.arraycopy(b, at, c, at + ins.length, b.length - at);
        return c;
      }
      default -> {
        // A large varint where a length or value may sit.
        byte[] c = b.clone();
        for (int i = at; i < Math.min(c.length, at + 5); i++) {
          c[i] = (byte) 0xFF;
        }
        return c;
      }
    }
  }

  /**
   * Either both readers reject the bytes with DecodingException, or the full read succeeds, the
   * summary agrees with it, and the model survives another write/read round.
   */
  static void decodeOrReject(byte[] bytes) {
    OnnxModel model = null;
    try {
      model = OnnxReader.read(bytes);
    } catch (DecodingException expected) {
      // fine: hostile input is rejected
    }
    try {
      OnnxModelInfo info = OnnxReader.readInfo(bytes);
      if (model != null) {
        assertEquals(OnnxModelInfo.of(model, bytes.length), info);
      }
    } catch (DecodingException e) {
      assertNull(model, "the summary rejected what the full read accepted: " + e.getMessage());
    }
    if (model != null) {
      assertEquals(model, OnnxReader.read(OnnxWriter.write(model)));
    }
  }
}
