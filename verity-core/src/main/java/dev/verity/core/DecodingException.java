package dev.verity.core;

/**
 * Thrown when bytes or text do not decode to a valid value: wrong length, wrong version, truncated,
 * non-canonical, or out of range. Unchecked because decoding failures are input errors that edges
 * (HTTP handlers, CLI commands) turn into a clear message; the message names what was wrong.
 */
public class DecodingException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  public DecodingException(String message) {
    super(message);
  }

  public DecodingException(String message, Throwable cause) {
    super(message, cause);
  }
}
