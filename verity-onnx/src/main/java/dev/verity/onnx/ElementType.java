package dev.verity.onnx;

import dev.verity.core.DecodingException;

/**
 * The element type of an ONNX tensor, with the numeric codes of ONNX's {@code
 * TensorProto.DataType}. {@link #fromCode(int)} rejects codes this version of Verity does not know
 * (and {@code UNDEFINED = 0}, which is never a valid tensor type).
 */
public enum ElementType {
  FLOAT(1, 32),
  UINT8(2, 8),
  INT8(3, 8),
  UINT16(4, 16),
  INT16(5, 16),
  INT32(6, 32),
  INT64(7, 64),
  /** Variable-length byte strings; stored in {@code string_data}, never in raw bytes. */
  STRING(8, 0),
  /** One byte per element, 0 or 1. */
  BOOL(9, 8),
  FLOAT16(10, 16),
  DOUBLE(11, 64),
  UINT32(12, 32),
  UINT64(13, 64),
  COMPLEX64(14, 64),
  COMPLEX128(15, 128),
  BFLOAT16(16, 16),
  FLOAT8E4M3FN(17, 8),
  FLOAT8E4M3FNUZ(18, 8),
  FLOAT8E5M2(19, 8),
  FLOAT8E5M2FNUZ(20, 8),
  /** Two elements per byte, first in the low nibble. */
  UINT4(21, 4),
  /** Two elements per byte, first in the low nibble. */
  INT4(22, 4),
  /** Two elements per byte, first in the low nibble. */
  FLOAT4E2M1(23, 4),
  FLOAT8E8M0(24, 8),
  /** Four elements per byte, first in the lowest two bits. */
  UINT2(25, 2),
  /** Four elements per byte, first in the lowest two bits. */
  INT2(26, 2);

  private static final ElementType[] BY_CODE = new ElementType[27];

  static {
    for (ElementType t : values()) {
      BY_CODE[t.code] = t;
    }
  }

  private final int code;
  private final int bits;

  ElementType(int code, int bits) {
    this.code = code;
    this.bits = bits;
  }

  /** The ONNX {@code TensorProto.DataType} code. */
  public int code() {
    return code;
  }

  /** Bits per element in raw little-endian storage; 0 for {@link #STRING}. */
  public int bitWidth() {
    return bits;
  }

  /** Whether elements have a fixed width, so the tensor can be stored as raw bytes. */
  public boolean isFixedWidth() {
    return bits > 0;
  }

  /**
   * Bytes that {@code count} elements take in raw storage (sub-byte types are packed, the last byte
   * padded).
   *
   * @throws IllegalStateException for {@link #STRING}
   */
  public long rawByteLength(long count) {
    if (bits == 0) {
      throw new IllegalStateException("STRING tensors have no fixed-width raw form");
    }
    if (count < 0 || count > Long.MAX_VALUE / 128) {
      throw new IllegalArgumentException("element count out of range: " + count);
    }
    return (count * bits + 7) / 8;
  }

  /**
   * The element type with the given ONNX code.
   *
   * @throws DecodingException for 0 (UNDEFINED) and codes this version does not know
   */
  public static ElementType fromCode(long code) {
    if (code > 0 && code < BY_CODE.length) {
      return BY_CODE[(int) code];
    }
    if (code == 0) {
      throw new DecodingException("element type is UNDEFINED (0): every ONNX tensor needs a type");
    }
    throw new DecodingException(
        "unknown ONNX element type code "
            + code
            + " (Verity knows codes 1.."
            + (BY_CODE.length - 1)
            + "); the model may need a newer Verity");
  }
}
