package dev.verity.protocol.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

/**
 * jqwik generators for tensors of every element type, rank 0 to 4 and axes of 0 to 3. Floats are
 * drawn from raw bit patterns (so subnormals, infinities and -0.0 come up), with NaN normalised to
 * the one quiet NaN that JSON can carry.
 */
final class RandomTensors {
  private RandomTensors() {}

  static Arbitrary<long[]> shapes() {
    return Arbitraries.longs().between(0, 3).array(long[].class).ofMinSize(0).ofMaxSize(4);
  }

  static Arbitrary<Tensor> tensors() {
    return Arbitraries.of(ElementType.class).flatMap(RandomTensors::tensors);
  }

  /** Tensors of types that .npy can carry. */
  static Arbitrary<Tensor> binaryTensors() {
    return Arbitraries.of(ElementType.class)
        .filter(t -> t != ElementType.STRING)
        .flatMap(RandomTensors::tensors);
  }

  static Arbitrary<Tensor> tensors(ElementType type) {
    return shapes().flatMap(shape -> {
      int n = (int) Tensor.elementCount(shape);
      return switch (type) {
        case STRING -> strings().list().ofSize(n).map(v -> Tensor.ofStrings(shape, v));
        case BOOL -> Arbitraries.of(true, false).list().ofSize(n).map(v -> {
          boolean[] b = new boolean[n];
          for (int i = 0; i < n; i++) {
            b[i] = v.get(i);
          }
          return Tensor.ofBools(shape, b);
        });
        case FLOAT32 -> Arbitraries.integers().list().ofSize(n).map(v -> {
          ByteBuffer b = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
          v.forEach(bits -> {
            float f = Float.intBitsToFloat(bits);
            b.putFloat(Float.isNaN(f) ? Float.NaN : f);
          });
          return Tensor.ofBytes(type, shape, b.array());
        });
        case FLOAT64 -> Arbitraries.longs().list().ofSize(n).map(v -> {
          ByteBuffer b = ByteBuffer.allocate(8 * n).order(ByteOrder.LITTLE_ENDIAN);
          v.forEach(bits -> {
            double d = Double.longBitsToDouble(bits);
            b.putDouble(Double.isNaN(d) ? Double.NaN : d);
          });
          return Tensor.ofBytes(type, shape, b.array());
        });
        default -> Arbitraries.bytes().array(byte[].class).ofSize(n * type.byteSize())
            .map(bytes -> Tensor.ofBytes(type, shape, bytes));
      };
    });
  }

  /** Well-formed Unicode text: ASCII, Latin, CJK, control characters and astral-plane emoji. */
  static Arbitrary<String> strings() {
    Arbitrary<String> bmp = Arbitraries.strings()
        .withCharRange('\u0000', '\u00ff')
        .withCharRange('\u4e00', '\u4e20')
        .ofMaxLength(12);
    Arbitrary<String> astral = Arbitraries.of("\ud83d\ude42", "\ud800\udc00", "\udbff\udfff");
    return Combinators.combine(bmp, astral, Arbitraries.of(true, false))
        .as((s, a, withAstral) -> withAstral ? s + a : s);
  }

  static Arbitrary<String> names() {
    return Arbitraries.strings().withCharRange('a', 'z').numeric().withChars('_', '.', '-')
        .ofMinLength(1).ofMaxLength(10);
  }

  static Arbitrary<NamedTensors> namedTensors() {
    return Arbitraries.maps(names(), tensors()).ofMinSize(1).ofMaxSize(4).map(NamedTensors::of);
  }

  static Arbitrary<NamedTensors> binaryNamedTensors() {
    return Arbitraries.maps(names(), binaryTensors()).ofMinSize(1).ofMaxSize(4).map(NamedTensors::of);
  }

  /** Raw float32 bit patterns, NaN payloads included: what a binary transport must keep. */
  static Arbitrary<Tensor> rawFloat32() {
    return shapes().flatMap(shape -> {
      int n = (int) Tensor.elementCount(shape);
      return Arbitraries.bytes().array(byte[].class).ofSize(4 * n)
          .map(bytes -> Tensor.ofBytes(ElementType.FLOAT32, shape, bytes));
    });
  }
}
