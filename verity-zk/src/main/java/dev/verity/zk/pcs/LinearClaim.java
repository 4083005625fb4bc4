package dev.verity.zk.pcs;

import dev.verity.zk.field.Ext;
import java.util.List;
import java.util.Objects;

/**
 * A claim that a linear function of the committed vector takes {@code value}: the sum of its
 * parts, each either the multilinear evaluation of an aligned slice at a point ({@link Eval}) or an
 * inner product of an aligned slice with explicit coefficients ({@link Dot}).
 */
public record LinearClaim(List<Part> parts, Ext value) {
  public LinearClaim {
    parts = List.copyOf(parts);
    Objects.requireNonNull(value);
    if (parts.isEmpty()) {
      throw new IllegalArgumentException("a claim needs at least one part");
    }
  }

  /** One linear function of a slice of the committed vector. */
  public sealed interface Part permits Eval, Dot {
    int offset();

    /** log2 of the slice length. */
    int logLength();
  }

  /**
   * coefficient * (the slice [offset, offset + 2^point.length) read as a multilinear polynomial, at
   * point). The offset must be a multiple of the slice length.
   */
  public record Eval(int offset, Ext[] point, Ext coefficient) implements Part {
    public Eval {
      Objects.requireNonNull(point);
      Objects.requireNonNull(coefficient);
      checkAligned(offset, point.length);
    }

    @Override
    public int logLength() {
      return point.length;
    }
  }

  /**
   * sum_j c_j * v[offset + j] over the interleaved extension coefficients c (at most 2^logLength of
   * them). The offset must be a multiple of 2^logLength.
   */
  public record Dot(int offset, int logLength, long[] coefficients) implements Part {
    public Dot {
      Objects.requireNonNull(coefficients);
      checkAligned(offset, logLength);
      if (coefficients.length % 2 != 0 || coefficients.length / 2 > (1L << logLength)) {
        throw new IllegalArgumentException("too many coefficients for a slice of 2^" + logLength);
      }
      coefficients = coefficients.clone();
    }

    @Override
    public long[] coefficients() {
      return coefficients.clone();
    }

    long[] view() {
      return coefficients;
    }
  }

  private static void checkAligned(int offset, int logLength) {
    if (offset < 0 || logLength < 0 || logLength > 30 || (offset & ((1 << logLength) - 1)) != 0) {
      throw new IllegalArgumentException("slice offset " + offset + " is not aligned to 2^" + logLength);
    }
  }

  /** The claim that the slice at offset has multilinear value {@code value} at point. */
  public static LinearClaim eval(int offset, Ext[] point, Ext value) {
    return new LinearClaim(List.of(new Eval(offset, point, Ext.ONE)), value);
  }
}
