package dev.verity.onnx;

import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * An ONNX computation graph: nodes in topological order, initializers (the weights), and the
 * declared inputs, outputs and intermediate value types. Immutable. Input names are distinct, as
 * are initializer names and output names. A graph may be a model's main graph or the body of a
 * control-flow node, which may also use values of its enclosing graphs.
 *
 * @param name the graph name ("" when absent)
 * @param nodes the nodes, in the order the file lists them
 * @param initializers constant tensors, by distinct name
 * @param inputs declared inputs; may include initializers (see {@link #realInputs()})
 * @param outputs declared outputs
 * @param valueInfo optional type annotations of intermediate values
 */
public record OnnxGraph(
    String name,
    List<OnnxNode> nodes,
    List<OnnxTensorData> initializers,
    List<OnnxValueInfo> inputs,
    List<OnnxValueInfo> outputs,
    List<OnnxValueInfo> valueInfo) {

  public OnnxGraph {
    Objects.requireNonNull(name, "name");
    nodes = List.copyOf(nodes);
    initializers = List.copyOf(initializers);
    inputs = List.copyOf(inputs);
    outputs = List.copyOf(outputs);
    valueInfo = List.copyOf(valueInfo);
    requireDistinct("input", inputs.stream().map(OnnxValueInfo::name).toList());
    requireDistinct("output", outputs.stream().map(OnnxValueInfo::name).toList());
    requireDistinct("initializer", initializers.stream().map(OnnxTensorData::name).toList());
    for (OnnxTensorData t : initializers) {
      if (t.name().isEmpty()) {
        throw new IllegalArgumentException(
            "graph '" + name + "' has an initializer without a name");
      }
    }
  }

  private void requireDistinct(String what, List<String> names) {
    Set<String> seen = new HashSet<>();
    for (String n : names) {
      if (!seen.add(n)) {
        throw new IllegalArgumentException(
            "graph '" + name + "' declares " + what + " '" + n + "' more than once");
      }
    }
  }

  /**
   * The inputs a caller must feed: declared inputs that are not initializers. (ONNX lets a graph
   * list weights as inputs too, so a caller may override them; Verity treats them as fixed.)
   */
  public List<OnnxValueInfo> realInputs() {
    Set<String> init = new HashSet<>();
    for (OnnxTensorData t : initializers) {
      init.add(t.name());
    }
    return inputs.stream().filter(i -> !init.contains(i.name())).toList();
  }

  /** The initializer with this name, if any. */
  public Optional<OnnxTensorData> initializer(String initializerName) {
    return initializers.stream().filter(t -> t.name().equals(initializerName)).findFirst();
  }

  /** Total number of elements across this graph's initializers (not those of subgraphs). */
  public long parameterCount() {
    long n = 0;
    for (OnnxTensorData t : initializers) {
      n += t.elementCount();
    }
    return n;
  }

  /**
   * Operators used by this graph and every subgraph inside it, as {@link
   * OnnxNode#qualifiedOpType()}.
   */
  public SortedSet<String> opTypes() {
    SortedSet<String> out = new TreeSet<>();
    collectOpTypes(out);
    return out;
  }

  private void collectOpTypes(Set<String> out) {
    for (OnnxNode n : nodes) {
      out.add(n.qualifiedOpType());
      for (OnnxAttribute a : n.attributes()) {
        if (a.kind() == OnnxAttribute.Kind.GRAPH) {
          a.asGraph().collectOpTypes(out);
        } else if (a.kind() == OnnxAttribute.Kind.GRAPHS) {
          for (OnnxGraph g : a.asGraphs()) {
            g.collectOpTypes(out);
          }
        }
      }
    }
  }
}
