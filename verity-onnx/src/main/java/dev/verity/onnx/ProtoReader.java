package dev.verity.onnx;

import dev.verity.core.DecodingException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Reads protobuf wire format from a window of a byte buffer (a heap array or a memory-mapped file),
 * by absolute index, so nothing outside the window is touched. Every read is bounds-checked against
 * the window: lengths that point past it, over-long varints, invalid wire types and groups are
 * {@link DecodingException}s naming the byte offset.
 */
final class ProtoReader {
  static final int VARINT = 0;
  static final int FIXED64 = 1;
  static final int LEN = 2;
  static final int FIXED32 = 5;

  private final ByteBuffer buf;
  private int pos;
  private final int end;

  ProtoReader(ByteBuffer buf, int start, int end) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  boolean atEnd() {
    return pos >= end;
  }

  int position() {
    return pos;
  }

  int end() {
    return end;
  }

  DecodingException error(String message) {
    return new DecodingException(message + " (at byte " + pos + ")");
  }

  /** Reads a field key: field number in the high bits, wire type in the low three. */
  int readTag() {
    int at = pos;
    long key = readVarint();
    long field = key >>> 3;
    int wireType = (int) (key & 7);
    if (field == 0 || field > 0x1FFF_FFFFL) {
      throw new DecodingException(
          "not a valid ONNX protobuf: field number " + field + " at byte " + at
              + " (the data may be corrupt or not an ONNX file)");
    }
    if (wireType == 3 || wireType == 4) {
      throw new DecodingException(
          "not a valid ONNX protobuf: group wire type at byte " + at + " (ONNX never uses groups)");
    }
    if (wireType > 5) {
      throw new DecodingException(
          "not a valid ONNX protobuf: invalid wire type " + wireType + " at byte " + at);
    }
    return (int) key;
  }

  static int fieldOf(int tag) {
    return tag >>> 3;
  }

  static int wireTypeOf(int tag) {
    return tag & 7;
  }

  long readVarint() {
    long result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= end) {
        throw error("truncated input: varint runs past the end of its message");
      }
      int b = buf.get(pos++) & 0xFF;
      if (shift == 63 && b > 1) {
        throw error("malformed varint: more than 64 bits");
      }
      result |= (long) (b & 0x7F) << shift;
      if (b < 0x80) {
        return result;
      }
    }
    throw error("malformed varint: longer than 10 bytes");
  }

  int readFixed32() {
    require(4, "fixed32");
    int v = buf.get(pos) & 0xFF
        | (buf.get(pos + 1) & 0xFF) << 8
        | (buf.get(pos + 2) & 0xFF) << 16
        | (buf.get(pos + 3) & 0xFF) << 24;
    pos += 4;
    return v;
  }

  long readFixed64() {
    long lo = readFixed32() & 0xFFFF_FFFFL;
    long hi = readFixed32() & 0xFFFF_FFFFL;
    return lo | hi << 32;
  }

  private void require(int n, String what) {
    if (end - pos < n) {
      throw error(
          "truncated input: " + what + " needs " + n + " bytes, " + (end - pos) + " remain");
    }
  }

  /** Reads a length prefix and checks that many bytes remain in this message. */
  int readLength() {
    int at = pos;
    long n = readVarint();
    if (n < 0 || n > end - pos) {
      throw new DecodingException(
          "truncated or corrupt input: field at byte " + at + " claims " + Long.toUnsignedString(n)
              + " bytes but only " + (end - pos) + " remain in the enclosing message");
    }
    return (int) n;
  }

  /** Steps over bytes already checked by {@link #readLength()}. */
  void skipBytes(int n) {
    pos += n;
  }

  /** Reads a length-delimited field as a reader over its bytes, and steps past it. */
  ProtoReader readMessage() {
    int n = readLength();
    ProtoReader sub = new ProtoReader(buf, pos, pos + n);
    pos += n;
    return sub;
  }

  byte[] readBytes() {
    int n = readLength();
    byte[] out = new byte[n];
    buf.get(pos, out);
    pos += n;
    return out;
  }

  /** Copies {@code length} bytes at an absolute offset inside this reader's buffer. */
  void copy(int offset, byte[] dst, int dstOffset, int length) {
    buf.get(offset, dst, dstOffset, length);
  }

  byte byteAt(int offset) {
    return buf.get(offset);
  }

  String readString(String what) {
    int at = pos;
    byte[] b = readBytes();
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(b))
          .toString();
    } catch (CharacterCodingException e) {
      throw new DecodingException(what + " at byte " + at + " is not valid UTF-8");
    }
  }

  /** Skips a field of the given wire type (its tag already read). */
  void skip(int wireType) {
    switch (wireType) {
      case VARINT -> readVarint();
      case FIXED64 -> {
        require(8, "fixed64");
        pos += 8;
      }
      case LEN -> {
        int n = readLength();
        pos += n;
      }
      case FIXED32 -> {
        require(4, "fixed32");
        pos += 4;
      }
      default -> throw error("cannot skip wire type " + wireType);
    }
  }

  /** Checks a known field has the wire type the schema gives it. */
  void expect(int tag, int wireType, String field) {
    if (wireTypeOf(tag) != wireType) {
      throw error(
          "not a valid ONNX protobuf: " + field + " has wire type " + wireTypeOf(tag)
              + ", expected " + wireType);
    }
  }

  /** Counts the varints in a packed field window; rejects a window that ends mid-varint. */
  long countPackedVarints(int offset, int length) {
    long count = 0;
    int run = 0;
    for (int i = offset; i < offset + length; i++) {
      run++;
      if ((buf.get(i) & 0x80) == 0) {
        count++;
        run = 0;
      } else if (run >= 10) {
        throw new DecodingException("malformed varint in packed field at byte " + i);
      }
    }
    if (run != 0) {
      throw new DecodingException(
          "truncated packed field at byte " + offset + ": it ends in the middle of a varint");
    }
    return count;
  }

  /** A reader over a window of the same buffer. */
  ProtoReader window(int offset, int length) {
    return new ProtoReader(buf, offset, offset + length);
  }
}
