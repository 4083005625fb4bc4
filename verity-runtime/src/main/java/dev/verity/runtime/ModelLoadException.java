package dev.verity.runtime;

/**
 * A model could not be loaded: the file is malformed or hostile, declares tensors Verity cannot
 * carry, or the requested configuration cannot be honoured. The message says which and what to do.
 */
public class ModelLoadException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ModelLoadException(String message) {
    super(message);
  }

  public ModelLoadException(String message, Throwable cause) {
    super(message, cause);
  }
}
