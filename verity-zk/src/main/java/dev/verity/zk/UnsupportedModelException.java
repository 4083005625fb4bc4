package dev.verity.zk;

import java.util.Optional;

/**
 * An ONNX model that cannot be turned into a provable {@link QuantizedModel}: an operator outside
 * the supported set, an attribute the circuit cannot express (dilations, groups, other pooling
 * windows, ...), a graph shape it cannot follow, or missing calibration ranges. The message says
 * what and, where there is one, names the operator and node.
 */
public final class UnsupportedModelException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;
  private final String operator;

  UnsupportedModelException(String message) {
    this(null, message);
  }

  UnsupportedModelException(String operator, String message) {
    super(message);
    this.operator = operator;
  }

  /** The operator that could not be compiled, when one is to blame. */
  public Optional<String> operator() {
    return Optional.ofNullable(operator);
  }
}
