package dev.verity.core.cbor;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Parses the part of CBOR diagnostic notation (RFC 8949 section 8) that the committed vectors use:
 * integers, "text" with JSON escapes, h'hex', [arrays], {"maps": ...}, true, false and null. Test
 * support only: it turns vector files into {@link CborValue}s without going through the codec under
 * test.
 */
final class Diagnostic {
  private final String text;
  private int pos;

  private Diagnostic(String text) {
    this.text = text;
  }

  static CborValue parse(String text) {
    Diagnostic d = new Diagnostic(text);
    CborValue v = d.value();
    d.skipSpace();
    if (d.pos != text.length()) {
      throw d.error("trailing text");
    }
    return v;
  }

  private CborValue value() {
    skipSpace();
    char c = peek();
    if (c == '[') {
      pos++;
      List<CborValue> items = new ArrayList<>();
      if (!consume(']')) {
        do {
          items.add(value());
        } while (consume(','));
        expect(']');
      }
      return new CborValue.Array(items);
    }
    if (c == '{') {
      pos++;
      CborValue.Map.Builder b = CborValue.Map.builder();
      if (!consume('}')) {
        do {
          skipSpace();
          String key = string();
          expect(':');
          b.put(key, value());
        } while (consume(','));
        expect('}');
      }
      return b.build();
    }
    if (c == '"') {
      return new CborValue.Text(string());
    }
    if (text.startsWith("h'", pos)) {
      int end = text.indexOf('\'', pos + 2);
      byte[] bytes = HexFormat.of().parseHex(text, pos + 2, end);
      pos = end + 1;
      return new CborValue.Bytes(bytes);
    }
    for (String word : new String[] {"true", "false", "null"}) {
      if (text.startsWith(word, pos)) {
        pos += word.length();
        return switch (word) {
          case "true" -> new CborValue.Bool(true);
          case "false" -> new CborValue.Bool(false);
          default -> CborValue.Null.INSTANCE;
        };
      }
    }
    int start = pos;
    if (peek() == '-') {
      pos++;
    }
    while (pos < text.length() && Character.isDigit(text.charAt(pos))) {
      pos++;
    }
    if (start == pos) {
      throw error("unexpected character");
    }
    // longValueExact: a vector outside the 64-bit range is a broken vector file, not a test case.
    return new CborValue.Int(new BigInteger(text.substring(start, pos)).longValueExact());
  }

  private String string() {
    expect('"');
    StringBuilder sb = new StringBuilder();
    while (true) {
      char c = text.charAt(pos++);
      if (c == '"') {
        return sb.toString();
      }
      if (c != '\\') {
        sb.append(c);
        continue;
      }
      char e = text.charAt(pos++);
      switch (e) {
        case '"', '\\', '/' -> sb.append(e);
        case 'n' -> sb.append('\n');
        case 't' -> sb.append('\t');
        case 'r' -> sb.append('\r');
        case 'b' -> sb.append('\b');
        case 'f' -> sb.append('\f');
        case 'u' -> {
          sb.append((char) Integer.parseInt(text.substring(pos, pos + 4), 16));
          pos += 4;
        }
        default -> throw error("unknown escape \\" + e);
      }
    }
  }

  private void skipSpace() {
    while (pos < text.length() && text.charAt(pos) == ' ') {
      pos++;
    }
  }

  private char peek() {
    if (pos >= text.length()) {
      throw error("unexpected end");
    }
    return text.charAt(pos);
  }

  private boolean consume(char c) {
    skipSpace();
    if (pos < text.length() && text.charAt(pos) == c) {
      pos++;
      return true;
    }
    return false;
  }

  private void expect(char c) {
    if (!consume(c)) {
      throw error("expected '" + c + "'");
    }
  }

  private IllegalStateException error(String what) {
    return new IllegalStateException(what + " at " + pos + " in diagnostic: " + text);
  }
}
