package dev.verity.core.cbor;

import dev.verity.core.DecodingException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The values of Verity's canonical encoding: a deterministic subset of CBOR (RFC 8949 section 4.2.1)
 * with integers, byte strings, text strings, arrays, maps with text keys, booleans and null. No
 * floats, no tags, no indefinite lengths. Every value has exactly one encoding, so hashes and
 * signatures over encodings are well defined. Instances are immutable.
 */
public sealed interface CborValue {

  /** A signed 64-bit integer (CBOR major types 0 and 1 within the range of {@code long}). */
  record Int(long value) implements CborValue {}

  /** A byte string. */
  record Bytes(byte[] value) implements CborValue {
    public Bytes {
      value = value.clone();
    }

    @Override
    public byte[] value() {
      return value.clone();
    }

    /** Read access without a copy, for encoders. */
    byte[] unsafeView() {
      return value;
    }

    public int length() {
      return value.length;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Bytes b && MessageDigest.isEqual(value, b.value);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(value);
    }

    @Override
    public String toString() {
      return "Bytes[" + value.length + "]";
    }
  }

  /**
   * A UTF-8 text string.
   *
   * @throws IllegalArgumentException if the string has an unpaired surrogate: it has no UTF-8 form,
   *     so two different strings would otherwise encode to the same bytes
   */
  record Text(String value) implements CborValue {
    public Text {
      requireUtf8(value, "CBOR text");
    }
  }

  /** Returns {@code s} if it is well-formed UTF-16 (every surrogate paired), else throws. */
  private static String requireUtf8(String s, String what) {
    java.util.Objects.requireNonNull(s, what);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < s.length()
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        throw new IllegalArgumentException(
            what + " has an unpaired surrogate at index " + i + " and cannot be written as UTF-8");
      }
    }
    return s;
  }

  /** A boolean. */
  record Bool(boolean value) implements CborValue {}

  /** The null value. */
  enum Null implements CborValue {
    INSTANCE
  }

  /** An array. */
  record Array(List<CborValue> items) implements CborValue {
    public Array {
      items = List.copyOf(items);
    }

    public CborValue get(int i) {
      return items.get(i);
    }

    public int size() {
      return items.size();
    }
  }

  /**
   * A map from text keys to values, kept in canonical key order: shorter UTF-8 encodings first, then
   * bytewise. Accessors throw {@link DecodingException} naming the field when a value is missing or
   * of the wrong type, so decoders of protocol types stay short.
   */
  final class Map implements CborValue {
    /**
     * Canonical CBOR order of text keys: by encoded length, then bytewise, of their UTF-8 encodings
     * (as {@link String#getBytes} with UTF-8 makes them, an unpaired surrogate becoming '?'). It is
     * computed from the characters without encoding them: every map lookup compares keys, and
     * encoding both on each comparison was a large share of what a node allocated per request.
     */
    public static final Comparator<String> KEY_ORDER = Map::compareKeys;

    private static int compareKeys(String a, String b) {
      int byLength = Integer.compare(utf8Length(a), utf8Length(b));
      if (byLength != 0) {
        return byLength;
      }
      // UTF-8 keeps code point order, so bytewise order is code point order
      int i = 0;
      int j = 0;
      while (i < a.length() && j < b.length()) {
        int x = codePoint(a, i);
        int y = codePoint(b, j);
        if (x != y) {
          return Integer.compare(x, y);
        }
        i += x >= 0x10000 ? 2 : 1;
        j += y >= 0x10000 ? 2 : 1;
      }
      return Boolean.compare(i < a.length(), j < b.length());
    }

    /** The code point at {@code i} as UTF-8 encodes it: an unpaired surrogate is '?'. */
    private static int codePoint(String s, int i) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        return Character.toCodePoint(c, s.charAt(i + 1));
      }
      return Character.isSurrogate(c) ? '?' : c;
    }

    /** The length of {@code s.getBytes(UTF_8)}, without making it. */
    static int utf8Length(String s) {
      int n = 0;
      for (int i = 0; i < s.length(); i++) {
        int cp = codePoint(s, i);
        if (cp < 0x80) {
          n += 1;
        } else if (cp < 0x800) {
          n += 2;
        } else if (cp < 0x10000) {
          n += 3;
        } else {
          n += 4;
          i++;
        }
      }
      return n;
    }

    private final java.util.SortedMap<String, CborValue> entries;

    private Map(java.util.SortedMap<String, CborValue> entries) {
      this.entries = Collections.unmodifiableSortedMap(entries);
    }

    public static Builder builder() {
      return new Builder();
    }

    public java.util.SortedMap<String, CborValue> entries() {
      return entries;
    }

    public int size() {
      return entries.size();
    }

    public boolean has(String key) {
      return entries.containsKey(key);
    }

    public CborValue get(String key) {
      CborValue v = entries.get(key);
      if (v == null) {
        throw new DecodingException("missing field '" + key + "'");
      }
      return v;
    }

    public long getLong(String key) {
      if (get(key) instanceof Int i) {
        return i.value();
      }
      throw wrongType(key, "integer");
    }

    public int getInt(String key) {
      long v = getLong(key);
      if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
        throw new DecodingException("field '" + key + "' is out of range: " + v);
      }
      return (int) v;
    }

    public String getText(String key) {
      if (get(key) instanceof Text t) {
        return t.value();
      }
      throw wrongType(key, "text");
    }

    public byte[] getBytes(String key) {
      if (get(key) instanceof Bytes b) {
        return b.value();
      }
      throw wrongType(key, "byte string");
    }

    public boolean getBool(String key) {
      if (get(key) instanceof Bool b) {
        return b.value();
      }
      throw wrongType(key, "boolean");
    }

    public Map getMap(String key) {
      if (get(key) instanceof Map m) {
        return m;
      }
      throw wrongType(key, "map");
    }

    public List<CborValue> getArray(String key) {
      if (get(key) instanceof Array a) {
        return a.items();
      }
      throw wrongType(key, "array");
    }

    public List<String> getTextList(String key) {
      List<String> out = new ArrayList<>();
      for (CborValue v : getArray(key)) {
        if (!(v instanceof Text t)) {
          throw new DecodingException("field '" + key + "' must hold only text");
        }
        out.add(t.value());
      }
      return out;
    }

    /** Rejects fields this decoder does not know, so unknown data is never silently dropped. */
    public Map requireOnly(Set<String> known) {
      for (String k : entries.keySet()) {
        if (!known.contains(k)) {
          throw new DecodingException("unknown field '" + k + "'");
        }
      }
      return this;
    }

    private DecodingException wrongType(String key, String expected) {
      return new DecodingException("field '" + key + "' must be " + expected);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Map m && entries.equals(m.entries);
    }

    @Override
    public int hashCode() {
      return entries.hashCode();
    }

    @Override
    public String toString() {
      return "Map" + entries;
    }

    /** Collects entries; {@link #build()} returns an immutable map. */
    public static final class Builder {
      private final TreeMap<String, CborValue> entries = new TreeMap<>(KEY_ORDER);

      /**
       * Adds an entry.
       *
       * @throws IllegalArgumentException if the key is already present or is not valid UTF-16
       */
      public Builder put(String key, CborValue value) {
        requireUtf8(key, "CBOR map key");
        if (entries.put(key, java.util.Objects.requireNonNull(value, key)) != null) {
          throw new IllegalArgumentException("duplicate key " + key);
        }
        return this;
      }

      public Builder put(String key, long value) {
        return put(key, new Int(value));
      }

      public Builder put(String key, String value) {
        return put(key, new Text(value));
      }

      public Builder put(String key, byte[] value) {
        return put(key, new Bytes(value));
      }

      public Builder put(String key, boolean value) {
        return put(key, new Bool(value));
      }

      public Builder putTextList(String key, List<String> values) {
        return put(key, new Array(values.stream().map(v -> (CborValue) new Text(v)).toList()));
      }

      public Map build() {
        return new Map(new TreeMap<>(entries));
      }
    }

    static Map ofSorted(TreeMap<String, CborValue> entries) {
      return new Map(entries);
    }
  }
}
