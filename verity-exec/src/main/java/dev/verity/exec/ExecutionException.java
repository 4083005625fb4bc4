package dev.verity.exec;

/**
 * A model cannot be run by the canonical executor on these inputs: a wrong input, a shape the
 * operator does not accept, an attribute outside the documented subset. The message names the
 * node and what to change.
 */
public class ExecutionException extends IllegalArgumentException {
  public ExecutionException(String message) {
    super(message);
  }
}
