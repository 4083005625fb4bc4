package dev.verity.runtime;

import dev.verity.core.DecodingException;

/**
 * Inputs handed to a model do not fit its signature: a missing or unknown name, a wrong element
 * type or shape, or a tensor above the configured limits. Raised before any data reaches the
 * runtime; the message names the tensor, what it has and what the model expects.
 */
public class InvalidInputException extends DecodingException {
  private static final long serialVersionUID = 1L;

  public InvalidInputException(String message) {
    super(message);
  }
}
