package dev.verity.onnx;

import java.util.Objects;

/**
 * One dimension of a tensor shape in an ONNX graph's signature: a fixed size, a symbolic name
 * shared by dimensions that must agree at run time (such as a batch size "N"), or unknown.
 */
public sealed interface Dim {

  /** A dimension of a fixed, non-negative size. */
  record Fixed(long size) implements Dim {
    public Fixed {
      if (size < 0) {
        throw new IllegalArgumentException("a dimension cannot be negative: " + size);
      }
    }

    @Override
    public String toString() {
      return Long.toString(size);
    }
  }

  /** A dimension named by a symbol (ONNX {@code dim_param}), fixed only when the model runs. */
  record Symbolic(String name) implements Dim {
    public Symbolic {
      Objects.requireNonNull(name, "name");
      if (name.isEmpty()) {
        throw new IllegalArgumentException("a symbolic dimension needs a non-empty name");
      }
    }

    @Override
    public String toString() {
      return name;
    }
  }

  /** A dimension about which the model says nothing. */
  record Unknown() implements Dim {
    @Override
    public String toString() {
      return "?";
    }
  }

  static Dim of(long size) {
    return new Fixed(size);
  }

  static Dim symbolic(String name) {
    return new Symbolic(name);
  }

  static Dim unknown() {
    return new Unknown();
  }
}
