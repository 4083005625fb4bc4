package dev.verity.protocol;

import dev.verity.core.DecodingException;
import java.util.regex.Pattern;

/** Rules for the names users choose: repositories, versions and tags. */
public final class Names {
  private static final Pattern REPOSITORY = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");
  private static final Pattern VERSION = Pattern.compile("[0-9A-Za-z][0-9A-Za-z._+-]{0,63}");
  private static final Pattern TAG = Pattern.compile("[0-9A-Za-z][0-9A-Za-z._:+-]{0,63}");

  private Names() {}

  public static String repository(String name) {
    if (name == null || !REPOSITORY.matcher(name).matches()) {
      throw new DecodingException(
          "repository name '" + name + "' must be 1-64 lower-case letters, digits, '.', '_' or '-',"
              + " starting with a letter or digit");
    }
    return name;
  }

  public static String version(String v) {
    if (v == null || !VERSION.matcher(v).matches()) {
      throw new DecodingException(
          "version '" + v + "' must be 1-64 letters, digits, '.', '_', '+' or '-', starting with a letter or digit");
    }
    return v;
  }

  public static String tag(String t) {
    if (t == null || !TAG.matcher(t).matches()) {
      throw new DecodingException("tag '" + t + "' must be 1-64 letters, digits or '.', '_', ':', '+', '-'");
    }
    return t;
  }

  /** Bounded free text (descriptions, licences, tasks). */
  public static String text(String field, String value, int max) {
    if (value == null || value.length() > max) {
      throw new DecodingException(field + " must be present and at most " + max + " characters");
    }
    return value;
  }
}
