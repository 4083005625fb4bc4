package dev.verity.zk.pcs;

import dev.verity.zk.field.Ext;
import java.util.Objects;

/**
 * A claim that the committed vector's slice [offset, offset + 2^point.length), read as a
 * multilinear polynomial, takes {@code value} at {@code point}. The offset must be a multiple of
 * the slice length, so the slice is the sub-cube where the high variables equal the offset's bits.
 */
public record EvalClaim(int offset, Ext[] point, Ext value) {
  public EvalClaim {
    Objects.requireNonNull(point);
    Objects.requireNonNull(value);
    if (offset < 0 || point.length > 30 || (offset & ((1 << point.length) - 1)) != 0) {
      throw new IllegalArgumentException("claim offset " + offset + " is not aligned to 2^" + point.length);
    }
  }
}
