package dev.verity.ledger;

import dev.verity.core.Cid;
import dev.verity.core.DecodingException;
import dev.verity.core.Hash;
import dev.verity.core.cbor.CborValue;
import dev.verity.core.crypto.Address;
import dev.verity.core.crypto.PublicKey;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Reading and writing the ledger's field types (addresses, keys, CIDs, hashes, amounts) in canonical
 * CBOR maps. Every reader rejects wrong types, wrong lengths and out-of-range numbers with a
 * {@link DecodingException} naming the field.
 */
final class Fields {
  private Fields() {}

  static Address address(CborValue.Map m, String key) {
    try {
      return Address.fromBytes(m.getBytes(key));
    } catch (DecodingException e) {
      throw new DecodingException("field '" + key + "': " + e.getMessage(), e);
    }
  }

  static PublicKey publicKey(CborValue.Map m, String key) {
    try {
      return PublicKey.fromBytes(m.getBytes(key));
    } catch (DecodingException e) {
      throw new DecodingException("field '" + key + "': " + e.getMessage(), e);
    }
  }

  static Hash hash(CborValue.Map m, String key) {
    try {
      return Hash.wrap(m.getBytes(key));
    } catch (DecodingException e) {
      throw new DecodingException("field '" + key + "': " + e.getMessage(), e);
    }
  }

  static Cid cid(CborValue.Map m, String key) {
    return cid(m.get(key), key);
  }

  static Cid cid(CborValue v, String what) {
    if (!(v instanceof CborValue.Bytes b)) {
      throw new DecodingException("field '" + what + "' must be a binary CID");
    }
    try {
      return Cid.fromBytes(b.value());
    } catch (DecodingException e) {
      throw new DecodingException("field '" + what + "': " + e.getMessage(), e);
    }
  }

  /** A non-negative integer. */
  static long amount(CborValue.Map m, String key) {
    long v = m.getLong(key);
    if (v < 0) {
      throw new DecodingException("field '" + key + "' must not be negative, got " + v);
    }
    return v;
  }

  static int smallInt(CborValue.Map m, String key, int max) {
    long v = m.getLong(key);
    if (v < 0 || v > max) {
      throw new DecodingException("field '" + key + "' must be in 0.." + max + ", got " + v);
    }
    return (int) v;
  }

  static String text(CborValue.Map m, String key, int maxChars) {
    String s = m.getText(key);
    if (s.length() > maxChars) {
      throw new DecodingException("field '" + key + "' longer than " + maxChars + " characters");
    }
    return s;
  }

  static CborValue.Bytes bytes(Address a) {
    return new CborValue.Bytes(a.toBytes());
  }

  static CborValue.Bytes bytes(Hash h) {
    return new CborValue.Bytes(h.toBytes());
  }

  static CborValue.Bytes bytes(Cid c) {
    return new CborValue.Bytes(c.toBytes());
  }

  static CborValue.Bytes bytes(PublicKey k) {
    return new CborValue.Bytes(k.toBytes());
  }

  static <T> CborValue.Array array(List<T> items, Function<T, CborValue> encode) {
    List<CborValue> out = new ArrayList<>(items.size());
    for (T t : items) {
      out.add(encode.apply(t));
    }
    return new CborValue.Array(out);
  }

  /** Decodes an array field of at most {@code max} items. */
  static <T> List<T> list(CborValue.Map m, String key, int max, Function<CborValue, T> decode) {
    List<CborValue> items = m.getArray(key);
    if (items.size() > max) {
      throw new DecodingException(
          "field '" + key + "' holds " + items.size() + " items, at most " + max + " allowed");
    }
    List<T> out = new ArrayList<>(items.size());
    for (CborValue v : items) {
      out.add(decode.apply(v));
    }
    return out;
  }

  static CborValue.Map map(CborValue v, String what) {
    if (v instanceof CborValue.Map m) {
      return m;
    }
    throw new DecodingException(what + " must be a CBOR map");
  }

  static Address addressValue(CborValue v, String what) {
    if (v instanceof CborValue.Bytes b && b.length() == Address.LENGTH) {
      return Address.fromBytes(b.value());
    }
    throw new DecodingException(what + " must be a 20-byte address");
  }

  /** {@code amount * bps / 10000} rounded down, without overflow for any non-negative amount. */
  static long share(long amount, int bps) {
    return amount / 10_000 * bps + amount % 10_000 * bps / 10_000;
  }
}
