package dev.verity.core;

/**
 * Thrown when evidence (a signature, a hash, a proof, a receipt) does not check out.
 *
 * <p>Every verification in Verity is a {@code void} method that returns normally only when the
 * evidence is valid; a caller cannot forget to look at a result. The message says what failed.
 */
public class VerificationException extends Exception {
  private static final long serialVersionUID = 1L;

  public VerificationException(String message) {
    super(message);
  }

  public VerificationException(String message, Throwable cause) {
    super(message, cause);
  }
}
