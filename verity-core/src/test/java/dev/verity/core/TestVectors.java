package dev.verity.core;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the committed test-vector files under {@code src/test/resources/vectors}. Lines starting
 * with '#' are comments. Files are either line-oriented or made of "key: value" records separated
 * by blank lines.
 */
public final class TestVectors {
  private TestVectors() {}

  /** The non-blank, non-comment lines of a vector file. */
  public static List<String> lines(String name) {
    List<String> out = new ArrayList<>();
    for (String line : read(name).split("\n", -1)) {
      if (!line.isBlank() && !line.startsWith("#")) {
        out.add(line);
      }
    }
    if (out.isEmpty()) {
      throw new IllegalStateException("vector file " + name + " holds no vectors");
    }
    return out;
  }

  /** The "key: value" records of a vector file, in file order. */
  public static List<Map<String, String>> records(String name) {
    List<Map<String, String>> out = new ArrayList<>();
    Map<String, String> current = new LinkedHashMap<>();
    for (String line : read(name).split("\n", -1)) {
      if (line.startsWith("#")) {
        continue;
      }
      if (line.isBlank()) {
        if (!current.isEmpty()) {
          out.add(current);
          current = new LinkedHashMap<>();
        }
        continue;
      }
      int colon = line.indexOf(':');
      if (colon < 0) {
        throw new IllegalStateException("not a 'key: value' line in " + name + ": " + line);
      }
      current.put(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
    }
    if (!current.isEmpty()) {
      out.add(current);
    }
    return out;
  }

  public static byte[] hex(String hex) {
    return HexFormat.of().parseHex(hex);
  }

  public static String hex(byte[] bytes) {
    return HexFormat.of().formatHex(bytes);
  }

  private static String read(String name) {
    try (InputStream in = TestVectors.class.getResourceAsStream("/vectors/" + name)) {
      if (in == null) {
        throw new IllegalStateException("missing test vector file vectors/" + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
