package dev.verity.onnx;

import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * One operator application in an ONNX graph.
 *
 * @param name optional node name ("" when absent)
 * @param opType the operator, such as {@code Conv}; non-empty
 * @param domain the operator set domain; "" (or "ai.onnx") is the standard ONNX domain
 * @param inputs input value names in order; "" marks an omitted optional input
 * @param outputs output value names in order; "" marks an omitted optional output
 * @param attributes the attributes, names distinct
 */
public record OnnxNode(
    String name,
    String opType,
    String domain,
    List<String> inputs,
    List<String> outputs,
    List<OnnxAttribute> attributes) {

  public OnnxNode {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(opType, "opType");
    Objects.requireNonNull(domain, "domain");
    inputs = List.copyOf(inputs);
    outputs = List.copyOf(outputs);
    attributes = List.copyOf(attributes);
    if (opType.isEmpty()) {
      throw new IllegalArgumentException("node '" + name + "' has no op_type");
    }
    Set<String> seen = new HashSet<>();
    for (OnnxAttribute a : attributes) {
      if (!seen.add(a.name())) {
        throw new IllegalArgumentException(
            "node '" + name + "' (" + opType + ") has attribute '" + a.name() + "' twice");
      }
    }
  }

  /** A standard-domain node. */
  public static OnnxNode of(
      String name, String opType, List<String> inputs, List<String> outputs,
      OnnxAttribute... attributes) {
    return new OnnxNode(name, opType, "", inputs, outputs, List.of(attributes));
  }

  /** The attribute with this name, if the node has one. */
  public Optional<OnnxAttribute> attribute(String attributeName) {
    for (OnnxAttribute a : attributes) {
      if (a.name().equals(attributeName)) {
        return Optional.of(a);
      }
    }
    return Optional.empty();
  }

  /** Whether the operator belongs to the standard ONNX operator set. */
  public boolean isStandardDomain() {
    return domain.isEmpty() || domain.equals("ai.onnx");
  }

  /**
   * The operator as listed in {@link OnnxModelInfo#opTypes()}: {@code Conv}, or {@code domain:Op}
   * outside the standard domain.
   */
  public String qualifiedOpType() {
    return isStandardDomain() ? opType : domain + ":" + opType;
  }
}
