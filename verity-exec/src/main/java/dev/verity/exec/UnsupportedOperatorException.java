package dev.verity.exec;

import java.util.List;

/**
 * A model uses operators outside the canonical executor's operator set, so it cannot be served in
 * the optimistic (dispute-backed) mode. Thrown at publish time by {@link
 * CanonicalExecutor#checkSupported}.
 */
public final class UnsupportedOperatorException extends ExecutionException {
  private final List<String> operators;

  UnsupportedOperatorException(List<String> operators) {
    super("the model uses operator" + (operators.size() == 1 ? " " : "s ")
        + String.join(", ", operators) + ", outside the canonical executor's set "
        + CanonicalExecutor.SUPPORTED_OPERATORS + "; export the model with these operators only"
        + " (or publish it without optimistic verification)");
    this.operators = List.copyOf(operators);
  }

  /** The unsupported operators, as {@code OnnxNode#qualifiedOpType()}, sorted. */
  public List<String> operators() {
    return operators;
  }
}
