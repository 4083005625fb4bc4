package dev.verity.runtime;

/**
 * The runtime failed while running a model on inputs that fitted its signature, for instance a
 * shape conflict deep inside the graph, or outputs larger than the configured limits.
 */
public class InferenceException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public InferenceException(String message) {
    super(message);
  }

  public InferenceException(String message, Throwable cause) {
    super(message, cause);
  }
}
