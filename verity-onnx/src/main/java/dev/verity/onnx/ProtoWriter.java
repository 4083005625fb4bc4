package dev.verity.onnx;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** Writes protobuf wire format into a growing byte array. */
final class ProtoWriter {
  private byte[] buf = new byte[256];
  private int size;

  int size() {
    return size;
  }

  byte[] toByteArray() {
    return Arrays.copyOf(buf, size);
  }

  private void ensure(long extra) {
    long need = size + extra;
    if (need > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(
          "the ONNX encoding would exceed 2 GiB, the protobuf limit; the model is too large");
    }
    if (need > buf.length) {
      long grown = Math.max(need, Math.min(Integer.MAX_VALUE - 8L, 2L * buf.length));
      buf = Arrays.copyOf(buf, (int) grown);
    }
  }

  void tag(int field, int wireType) {
    varint((long) field << 3 | wireType);
  }

  void varint(long v) {
    ensure(10);
    while ((v & ~0x7FL) != 0) {
      buf[size++] = (byte) ((v & 0x7F) | 0x80);
      v >>>= 7;
    }
    buf[size++] = (byte) v;
  }

  void fixed32(int v) {
    ensure(4);
    buf[size++] = (byte) v;
    buf[size++] = (byte) (v >>> 8);
    buf[size++] = (byte) (v >>> 16);
    buf[size++] = (byte) (v >>> 24);
  }

  void raw(byte[] b) {
    ensure(b.length);
    System.arraycopy(b, 0, buf, size, b.length);
    size += b.length;
  }

  void int64Field(int field, long v) {
    tag(field, ProtoReader.VARINT);
    varint(v);
  }

  void floatField(int field, float v) {
    tag(field, ProtoReader.FIXED32);
    fixed32(Float.floatToRawIntBits(v));
  }

  void bytesField(int field, byte[] b) {
    tag(field, ProtoReader.LEN);
    varint(b.length);
    raw(b);
  }

  void stringField(int field, String s) {
    bytesField(field, s.getBytes(StandardCharsets.UTF_8));
  }

  /** Writes a string field only when non-empty (absent and empty read the same). */
  void optionalString(int field, String s) {
    if (!s.isEmpty()) {
      stringField(field, s);
    }
  }

  void messageField(int field, ProtoWriter message) {
    tag(field, ProtoReader.LEN);
    varint(message.size);
    ensure(message.size);
    System.arraycopy(message.buf, 0, buf, size, message.size);
    size += message.size;
  }
}
