package dev.verity.protocol.tensor;

import dev.verity.core.DecodingException;

/**
 * One axis of a declared tensor shape: a fixed size, or a dynamic axis with an optional symbolic
 * name (such as "N" for a batch axis). Fixed sizes are at least 0.
 */
public record Dim(long size, String symbol) {
  /** Symbols are ONNX dim_param names: printable text of at most 128 characters. */
  private static final java.util.regex.Pattern SYMBOL = java.util.regex.Pattern.compile("[^\\p{Cntrl}]{0,128}");

  public Dim {
    if (size < -1) {
      throw new DecodingException("dimension size must be >= 0 or dynamic, got " + size);
    }
    if (size >= 0 && symbol != null) {
      throw new DecodingException("a fixed dimension has no symbol");
    }
    if (size == -1) {
      symbol = symbol == null ? "" : symbol;
      if (!SYMBOL.matcher(symbol).matches()) {
        throw new DecodingException("invalid dimension symbol '" + symbol + "'");
      }
    }
  }

  public static Dim fixed(long size) {
    if (size < 0) {
      throw new DecodingException("fixed dimension must be >= 0, got " + size);
    }
    return new Dim(size, null);
  }

  public static Dim dynamic(String symbol) {
    return new Dim(-1, symbol);
  }

  public boolean isDynamic() {
    return size < 0;
  }

  public boolean accepts(long actual) {
    return isDynamic() ? actual >= 0 : actual == size;
  }

  @Override
  public String toString() {
    return isDynamic() ? (symbol.isEmpty() ? "?" : symbol) : Long.toString(size);
  }
}
