package dev.verity.protocol.tensor;

import dev.verity.core.DecodingException;

/**
 * Element types a Verity tensor can hold. Names follow NumPy's dtype names; {@link #onnxCode()} is
 * the ONNX TensorProto.DataType code. Numeric data is always little-endian.
 */
public enum ElementType {
  FLOAT32("float32", 1, 4, "<f4"),
  UINT8("uint8", 2, 1, "|u1"),
  INT8("int8", 3, 1, "|i1"),
  INT16("int16", 5, 2, "<i2"),
  INT32("int32", 6, 4, "<i4"),
  INT64("int64", 7, 8, "<i8"),
  STRING("string", 8, 0, null),
  BOOL("bool", 9, 1, "|b1"),
  FLOAT64("float64", 11, 8, "<f8");

  private final String wireName;
  private final int onnxCode;
  private final int byteSize;
  private final String npyDescr;

  ElementType(String wireName, int onnxCode, int byteSize, String npyDescr) {
    this.wireName = wireName;
    this.onnxCode = onnxCode;
    this.byteSize = byteSize;
    this.npyDescr = npyDescr;
  }

  /** The name used in manifests, JSON and canonical encodings ("float32", "int64", ...). */
  public String wireName() {
    return wireName;
  }

  public int onnxCode() {
    return onnxCode;
  }

  /** Bytes per element; 0 for {@link #STRING}, whose elements vary in length. */
  public int byteSize() {
    return byteSize;
  }

  /** The NumPy .npy descriptor, or null where .npy cannot carry this type. */
  public String npyDescr() {
    return npyDescr;
  }

  public static ElementType fromWireName(String name) {
    for (ElementType t : values()) {
      if (t.wireName.equals(name)) {
        return t;
      }
    }
    throw new DecodingException(
        "unknown element type '" + name + "'; expected one of float32, float64, int8, uint8,"
            + " int16, int32, int64, bool, string");
  }

  public static ElementType fromOnnxCode(int code) {
    for (ElementType t : values()) {
      if (t.onnxCode == code) {
        return t;
      }
    }
    throw new DecodingException("ONNX element type " + code + " is not supported by Verity");
  }

  /** Accepts NumPy's little-endian descriptors; single-byte types may use '|', '<' or '='. */
  public static ElementType fromNpyDescr(String descr) {
    String normalized = descr;
    if (descr.length() == 3 && descr.endsWith("1") && "<=|".indexOf(descr.charAt(0)) >= 0) {
      normalized = "|" + descr.substring(1);
    } else if (descr.startsWith("=")) {
      normalized = "<" + descr.substring(1);
    }
    for (ElementType t : values()) {
      if (normalized.equals(t.npyDescr)) {
        return t;
      }
    }
    throw new DecodingException("unsupported .npy dtype '" + descr + "' (big-endian or not a Verity type)");
  }
}
