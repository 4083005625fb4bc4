package dev.verity.core.cbor;

import dev.verity.core.DecodingException;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * Encodes and decodes {@link CborValue}s in canonical form. The decoder is strict: it accepts exactly
 * the bytes the encoder produces for some value and rejects everything else (non-minimal lengths,
 * unsorted or duplicate keys, floats, tags, indefinite lengths, invalid UTF-8, trailing bytes), with
 * a message that says what was wrong. It never allocates more than the input's size.
 */
public final class Cbor {
  /**
   * Deepest nesting accepted: a value inside {@code MAX_DEPTH} enclosing arrays or maps is fine, one
   * more level is rejected by both the encoder and the decoder.
   */
  public static final int MAX_DEPTH = 32;

  private Cbor() {}

  /**
   * The canonical encoding of {@code value}.
   *
   * @throws IllegalArgumentException if the value nests deeper than {@link #MAX_DEPTH}: the decoder
   *     would reject the bytes, so they are never produced
   */
  public static byte[] encode(CborValue value) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(128);
    write(out, value, 0);
    return out.toByteArray();
  }

  public static CborValue decode(byte[] data) {
    Reader r = new Reader(data);
    CborValue v = r.read(0);
    if (r.pos != data.length) {
      throw new DecodingException(
          "trailing bytes after CBOR value at offset " + r.pos + " of " + data.length);
    }
    return v;
  }

  /** Decodes and requires a map at the top level. */
  public static CborValue.Map decodeMap(byte[] data) {
    if (decode(data) instanceof CborValue.Map m) {
      return m;
    }
    throw new DecodingException("expected a CBOR map at the top level");
  }

  private static void write(ByteArrayOutputStream out, CborValue value, int depth) {
    if (depth > MAX_DEPTH) {
      throw new IllegalArgumentException(
          "CBOR value nests deeper than " + MAX_DEPTH + " levels; the decoder would reject it");
    }
    switch (value) {
      case CborValue.Int i -> {
        if (i.value() >= 0) {
          header(out, 0, i.value());
        } else {
          header(out, 1, -1 - i.value());
        }
      }
      case CborValue.Bytes b -> {
        header(out, 2, b.length());
        out.writeBytes(b.unsafeView());
      }
      case CborValue.Text t -> {
        byte[] utf8 = t.value().getBytes(StandardCharsets.UTF_8);
        header(out, 3, utf8.length);
        out.writeBytes(utf8);
      }
      case CborValue.Array a -> {
        header(out, 4, a.size());
        for (CborValue item : a.items()) {
          write(out, item, depth + 1);
        }
      }
      case CborValue.Map m -> {
        header(out, 5, m.size());
        for (var e : m.entries().entrySet()) {
          byte[] k = e.getKey().getBytes(StandardCharsets.UTF_8);
          header(out, 3, k.length);
          out.writeBytes(k);
          write(out, e.getValue(), depth + 1);
        }
      }
      case CborValue.Bool b -> out.write(b.value() ? 0xf5 : 0xf4);
      case CborValue.Null n -> out.write(0xf6);
    }
  }

  /** Writes a major type with its argument in the shortest form (values are non-negative longs). */
  private static void header(ByteArrayOutputStream out, int major, long arg) {
    int m = major << 5;
    if (arg < 24) {
      out.write(m | (int) arg);
    } else if (arg < 0x100) {
      out.write(m | 24);
      out.write((int) arg);
    } else if (arg < 0x10000) {
      out.write(m | 25);
      out.write((int) (arg >>> 8));
      out.write((int) arg);
    } else if (arg < 0x100000000L) {
      out.write(m | 26);
      for (int s = 24; s >= 0; s -= 8) {
        out.write((int) (arg >>> s));
      }
    } else {
      out.write(m | 27);
      for (int s = 56; s >= 0; s -= 8) {
        out.write((int) (arg >>> s));
      }
    }
  }

  private static final class Reader {
    private final byte[] data;
    private int pos;

    Reader(byte[] data) {
      this.data = data;
    }

    CborValue read(int depth) {
      if (depth > MAX_DEPTH) {
        throw new DecodingException("CBOR nesting deeper than " + MAX_DEPTH);
      }
      int start = pos;
      int initial = u8();
      int major = initial >>> 5;
      int info = initial & 31;
      if (major == 7) {
        return switch (info) {
          case 20 -> new CborValue.Bool(false);
          case 21 -> new CborValue.Bool(true);
          case 22 -> CborValue.Null.INSTANCE;
          default ->
              throw new DecodingException(
                  "unsupported CBOR simple value or float (0x"
                      + Integer.toHexString(initial)
                      + ") at offset "
                      + start);
        };
      }
      long arg = argument(info, start);
      switch (major) {
        case 0 -> {
          if (arg < 0) {
            throw new DecodingException("integer out of range at offset " + start);
          }
          return new CborValue.Int(arg);
        }
        case 1 -> {
          if (arg < 0) {
            throw new DecodingException("integer out of range at offset " + start);
          }
          return new CborValue.Int(-1 - arg);
        }
        case 2 -> {
          return new CborValue.Bytes(take(arg, start));
        }
        case 3 -> {
          return new CborValue.Text(utf8(take(arg, start), start));
        }
        case 4 -> {
          checkCount(arg, start);
          List<CborValue> items = new ArrayList<>((int) Math.min(arg, 1024));
          for (long i = 0; i < arg; i++) {
            items.add(read(depth + 1));
          }
          return new CborValue.Array(items);
        }
        case 5 -> {
          checkCount(arg, start);
          TreeMap<String, CborValue> entries = new TreeMap<>(CborValue.Map.KEY_ORDER);
          String previous = null;
          for (long i = 0; i < arg; i++) {
            int keyAt = pos;
            if (!(read(depth + 1) instanceof CborValue.Text key)) {
              throw new DecodingException("map key at offset " + keyAt + " is not text");
            }
            if (previous != null && CborValue.Map.KEY_ORDER.compare(previous, key.value()) >= 0) {
              throw new DecodingException(
                  "map keys not in canonical order or duplicated at offset " + keyAt);
            }
            previous = key.value();
            entries.put(key.value(), read(depth + 1));
          }
          return CborValue.Map.ofSorted(entries);
        }
        default ->
            throw new DecodingException("CBOR tags are not allowed (offset " + start + ")");
      }
    }

    private long argument(int info, int start) {
      long v;
      long min;
      switch (info) {
        case 24 -> {
          v = u8();
          min = 24;
        }
        case 25 -> {
          v = ((long) u8() << 8) | u8();
          min = 0x100;
        }
        case 26 -> {
          v = 0;
          for (int i = 0; i < 4; i++) {
            v = (v << 8) | u8();
          }
          min = 0x10000;
        }
        case 27 -> {
          v = 0;
          for (int i = 0; i < 8; i++) {
            v = (v << 8) | u8();
          }
          min = 0x100000000L;
        }
        default -> {
          if (info < 24) {
            return info;
          }
          throw new DecodingException(
              "indefinite or reserved length (info " + info + ") at offset " + start);
        }
      }
      if (Long.compareUnsigned(v, min) < 0) {
        throw new DecodingException("non-minimal length or integer encoding at offset " + start);
      }
      return v;
    }

    private void checkCount(long count, int start) {
      // Every item takes at least one byte, so a count above the bytes left is a lie.
      if (count < 0 || count > data.length - pos) {
        throw new DecodingException("item count " + count + " exceeds the input at offset " + start);
      }
    }

    private byte[] take(long n, int start) {
      if (n < 0 || n > data.length - pos) {
        throw new DecodingException(
            "string of " + Long.toUnsignedString(n) + " bytes runs past the end at offset " + start);
      }
      byte[] out = java.util.Arrays.copyOfRange(data, pos, pos + (int) n);
      pos += (int) n;
      return out;
    }

    private int u8() {
      if (pos >= data.length) {
        throw new DecodingException("truncated CBOR: unexpected end at offset " + pos);
      }
      return data[pos++] & 0xff;
    }

    private static String utf8(byte[] b, int start) {
      try {
        return StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT)
            .decode(ByteBuffer.wrap(b))
            .toString();
      } catch (CharacterCodingException e) {
        throw new DecodingException("invalid UTF-8 in text string at offset " + start, e);
      }
    }
  }
}
